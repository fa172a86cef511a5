/*
 * assockey.h
 *	  The assockey type: a canonical set of (model, id) associations.
 *
 * On-disk layout (varlena, int4 aligned):
 *
 *	int32	vl_len_		varlena header
 *	int32	nelems		number of associations
 *	uint16	lens[n]		per element: (model_len << 10) | (id_len - 1)
 *	char	data[]		model bytes then id bytes, element after element
 *
 * model_len is 1..63 (6 bits) and id_len 1..1024 (10 bits after -1), so one
 * uint16 describes an element.  Elements are sorted bytewise by (model, id)
 * without duplicates, so equal sets are byte-equal and hashing/btree/GIN
 * agree.
 */
#ifndef ASSOCKEY_H
#define ASSOCKEY_H

#include "fmgr.h"
#include "utils/jsonb.h"

#include "assockey_parse.h"

typedef struct AssocKey
{
	int32  vl_len_; /* varlena header (do not touch directly) */
	int32  nelems;  /* number of associations */
	uint16 lens[FLEXIBLE_ARRAY_MEMBER];
} AssocKey;

#define AK_HDRSZ             offsetof(AssocKey, lens)
#define AK_LENS_SIZE(n)      ((Size) (n) * sizeof(uint16))
#define AK_DATA(k)           ((char *) (k)->lens + AK_LENS_SIZE((k)->nelems))
#define AK_PACK(mlen, idlen) ((uint16) (((mlen) << 10) | ((idlen) -1)))
#define AK_MLEN(w)           ((size_t) ((w) >> 10))
#define AK_IDLEN(w)          ((size_t) ((w) &0x3FF) + 1)

#define DatumGetAssocKeyP(X)    ((AssocKey *) PG_DETOAST_DATUM(X))
#define PG_GETARG_ASSOCKEY_P(n) DatumGetAssocKeyP(PG_GETARG_DATUM(n))
#define PG_RETURN_ASSOCKEY_P(x) PG_RETURN_POINTER(x)

/* Iterator over the elements of a detoasted AssocKey. */
typedef struct AkIter
{
	const AssocKey *key;
	int             i;
	const char     *ptr;
} AkIter;

extern void      assoc_ak_iter_init(AkIter *it, const AssocKey *key);
extern bool      assoc_ak_iter_next(AkIter *it, AkElem *e);
extern AkElem   *assoc_ak_elements(const AssocKey *key);
extern AssocKey *assoc_ak_build(AkElem *elems, size_t n, bool canonical);
extern uint64    assoc_ak_elem_hash(const AkElem *e);
extern size_t    assoc_ak_elem_text(const AkElem *e, char *dst);
extern void      assoc_ak_push_json(JsonbParseState **state, Datum keys);

/* The set operations, also the SQL functions of the same names. */
extern Datum assockey_union(PG_FUNCTION_ARGS);
extern Datum assockey_minus(PG_FUNCTION_ARGS);
extern Datum assockey_size(PG_FUNCTION_ARGS);

/* Text and JSON forms (the type's output and its cast to json). */
extern Datum assockey_out(PG_FUNCTION_ARGS);
extern Datum assockey_to_json(PG_FUNCTION_ARGS);

#endif /* ASSOCKEY_H */
