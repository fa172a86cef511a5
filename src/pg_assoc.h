/*
 * pg_assoc.h
 *		Settings shared by the components of pg_assoc.
 */
#ifndef PG_ASSOC_H
#define PG_ASSOC_H

/* assoc.max_path_depth: most tokens a path may have (superuser-only). */
extern int	assoc_max_path_depth;

/* assoc.max_padding: most nulls one path write may pad an array with. */
extern int	assoc_max_padding;

#endif							/* PG_ASSOC_H */
