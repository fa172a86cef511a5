/*
 * search.h
 *		assoc.search (search.c): its settings.
 */
#ifndef ASSOC_SEARCH_H
#define ASSOC_SEARCH_H

extern void assoc_search_init(void);

#endif /* ASSOC_SEARCH_H */
