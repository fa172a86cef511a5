/*
 * assockey_ops.c
 *	  The assockey operators: containment, overlap, equality and order,
 *	  btree and hash support, and the set operations union and minus.
 *
 * Every operator works on canonical data (assockey.h), so equality is
 * byte equality and hashing, btree and GIN agree.
 *
 * Layer: SQL entry points, keys family (README, "How the code is
 * organised"); calls assockey.c and assockey_parse.c.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "compat.h"
#include "fmgr.h"

#include "assockey.h"

/* ---------------------------------------------------------------------
 * Set operators.  All work by merging the two sorted element lists; none of
 * them can raise on valid input, which the LEAKPROOF marking relies on.
 * ---------------------------------------------------------------------
 */

/*
 * ak_contains: true if every element of b is in a (a @> b).
 */
static bool
ak_contains(const AssocKey *a, const AssocKey *b)
{
	AkIter ia, ib;
	AkElem ea, eb;
	bool   more_a;

	if (b->nelems > a->nelems)
		return false;
	assoc_ak_iter_init(&ia, a);
	assoc_ak_iter_init(&ib, b);
	more_a = assoc_ak_iter_next(&ia, &ea);
	while (assoc_ak_iter_next(&ib, &eb))
	{
		int c = 1;

		while (more_a && (c = assoc_ak_elem_cmp(&ea, &eb)) < 0)
			more_a = assoc_ak_iter_next(&ia, &ea);
		if (!more_a || c != 0)
			return false;
		more_a = assoc_ak_iter_next(&ia, &ea);
	}
	return true;
}

/*
 * ak_overlaps: true if a and b share at least one element.
 */
static bool
ak_overlaps(const AssocKey *a, const AssocKey *b)
{
	AkIter ia, ib;
	AkElem ea, eb;
	bool   more_a, more_b;

	assoc_ak_iter_init(&ia, a);
	assoc_ak_iter_init(&ib, b);
	more_a = assoc_ak_iter_next(&ia, &ea);
	more_b = assoc_ak_iter_next(&ib, &eb);
	while (more_a && more_b)
	{
		int c = assoc_ak_elem_cmp(&ea, &eb);

		if (c == 0)
			return true;
		if (c < 0)
			more_a = assoc_ak_iter_next(&ia, &ea);
		else
			more_b = assoc_ak_iter_next(&ib, &eb);
	}
	return false;
}

/*
 * ak_cmp: total order on canonical keys: element by element, then the
 * shorter key first (so '{}' sorts first).  Consistent with equality as
 * byte equality.
 */
static int
ak_cmp(const AssocKey *a, const AssocKey *b)
{
	AkIter ia, ib;
	AkElem ea, eb;

	assoc_ak_iter_init(&ia, a);
	assoc_ak_iter_init(&ib, b);
	for (;;)
	{
		bool ha = assoc_ak_iter_next(&ia, &ea);
		bool hb = assoc_ak_iter_next(&ib, &eb);
		int  c;

		if (!ha || !hb)
			return ha ? 1 : (hb ? -1 : 0);
		c = assoc_ak_elem_cmp(&ea, &eb);
		if (c != 0)
			return c;
	}
}

/*
 * ak_equal: set equality, which canonical form makes byte equality.
 */
static bool
ak_equal(const AssocKey *a, const AssocKey *b)
{
	return VARSIZE(a) == VARSIZE(b) &&
		   memcmp(VARDATA(a), VARDATA(b), VARSIZE(a) - VARHDRSZ) == 0;
}

/* Free detoasted copies of the two arguments. */
#define AK_FREE_ARGS(a, b)                                                    \
	do                                                                        \
	{                                                                         \
		PG_FREE_IF_COPY(a, 0);                                                \
		PG_FREE_IF_COPY(b, 1);                                                \
	} while (0)

/*
 * AK_BOOL_OP: define a two-key boolean SQL function from a C predicate,
 * freeing detoasted copies (index scans call these once per row).
 */
#define AK_BOOL_OP(sqlname, expr)                                             \
	PG_FUNCTION_INFO_V1(sqlname);                                             \
	Datum sqlname(PG_FUNCTION_ARGS)                                           \
	{                                                                         \
		AssocKey *a = PG_GETARG_ASSOCKEY_P(0);                                \
		AssocKey *b = PG_GETARG_ASSOCKEY_P(1);                                \
		bool      r = (expr);                                                 \
                                                                              \
		AK_FREE_ARGS(a, b);                                                   \
		PG_RETURN_BOOL(r);                                                    \
	}                                                                         \
	extern int no_such_variable

/* a @> b: a contains every association of b. */
AK_BOOL_OP(assockey_contains, ak_contains(a, b));
/* a <@ b: every association of a is in b. */
AK_BOOL_OP(assockey_contained, ak_contains(b, a));
/* a && b: at least one association in common. */
AK_BOOL_OP(assockey_overlap, ak_overlaps(a, b));
/* a = b: same set. */
AK_BOOL_OP(assockey_eq, ak_equal(a, b));
/* a <> b: different sets. */
AK_BOOL_OP(assockey_ne, !ak_equal(a, b));
/* a < b in the total order of canonical forms. */
AK_BOOL_OP(assockey_lt, ak_cmp(a, b) < 0);
/* a <= b. */
AK_BOOL_OP(assockey_le, ak_cmp(a, b) <= 0);
/* a > b. */
AK_BOOL_OP(assockey_gt, ak_cmp(a, b) > 0);
/* a >= b. */
AK_BOOL_OP(assockey_ge, ak_cmp(a, b) >= 0);

PG_FUNCTION_INFO_V1(assockey_cmp);
/*
 * assockey_cmp: btree support function 1.
 */
Datum
assockey_cmp(PG_FUNCTION_ARGS)
{
	AssocKey *a = PG_GETARG_ASSOCKEY_P(0);
	AssocKey *b = PG_GETARG_ASSOCKEY_P(1);
	int       r = ak_cmp(a, b);

	AK_FREE_ARGS(a, b);
	PG_RETURN_INT32(r);
}

PG_FUNCTION_INFO_V1(assockey_hash);
/*
 * assockey_hash: hash support function 1, over the canonical bytes (equal
 * sets are byte-equal, so equal keys hash equally).
 */
Datum
assockey_hash(PG_FUNCTION_ARGS)
{
	AssocKey *a = PG_GETARG_ASSOCKEY_P(0);
	Datum h = hash_any((unsigned char *) VARDATA(a), VARSIZE(a) - VARHDRSZ);

	PG_FREE_IF_COPY(a, 0);
	PG_RETURN_DATUM(h);
}

PG_FUNCTION_INFO_V1(assockey_hash_extended);
/*
 * assockey_hash_extended: hash support function 2 (64-bit, seeded), used by
 * hash partitioning.
 */
Datum
assockey_hash_extended(PG_FUNCTION_ARGS)
{
	AssocKey *a = PG_GETARG_ASSOCKEY_P(0);
	Datum     h = hash_any_extended((unsigned char *) VARDATA(a),
									VARSIZE(a) - VARHDRSZ, PG_GETARG_INT64(1));

	PG_FREE_IF_COPY(a, 0);
	PG_RETURN_DATUM(h);
}

PG_FUNCTION_INFO_V1(assockey_union);
/*
 * assockey_union: a || b, the union, by merging (result stays canonical).
 */
Datum
assockey_union(PG_FUNCTION_ARGS)
{
	AssocKey *a = PG_GETARG_ASSOCKEY_P(0);
	AssocKey *b = PG_GETARG_ASSOCKEY_P(1);
	AkElem   *out = palloc(sizeof(AkElem) * Max(a->nelems + b->nelems, 1));
	size_t    n = 0;
	AkIter    ia, ib;
	AkElem    ea, eb;
	bool      more_a, more_b;

	assoc_ak_iter_init(&ia, a);
	assoc_ak_iter_init(&ib, b);
	more_a = assoc_ak_iter_next(&ia, &ea);
	more_b = assoc_ak_iter_next(&ib, &eb);
	while (more_a || more_b)
	{
		int c = !more_a ? 1 : (!more_b ? -1 : assoc_ak_elem_cmp(&ea, &eb));

		if (c <= 0)
		{
			out[n++] = ea;
			more_a = assoc_ak_iter_next(&ia, &ea);
			if (c == 0)
				more_b = assoc_ak_iter_next(&ib, &eb);
		}
		else
		{
			out[n++] = eb;
			more_b = assoc_ak_iter_next(&ib, &eb);
		}
	}
	PG_RETURN_ASSOCKEY_P(assoc_ak_build(out, n, true));
}

PG_FUNCTION_INFO_V1(assockey_minus);
/*
 * assockey_minus: a - b, the associations of a not in b.
 */
Datum
assockey_minus(PG_FUNCTION_ARGS)
{
	AssocKey *a = PG_GETARG_ASSOCKEY_P(0);
	AssocKey *b = PG_GETARG_ASSOCKEY_P(1);
	AkElem   *out = palloc(sizeof(AkElem) * Max(a->nelems, 1));
	size_t    n = 0;
	AkIter    ia, ib;
	AkElem    ea, eb;
	bool      more_a, more_b;

	assoc_ak_iter_init(&ia, a);
	assoc_ak_iter_init(&ib, b);
	more_a = assoc_ak_iter_next(&ia, &ea);
	more_b = assoc_ak_iter_next(&ib, &eb);
	while (more_a)
	{
		int c = more_b ? assoc_ak_elem_cmp(&ea, &eb) : -1;

		if (c < 0)
		{
			out[n++] = ea;
			more_a = assoc_ak_iter_next(&ia, &ea);
		}
		else if (c == 0)
		{
			more_a = assoc_ak_iter_next(&ia, &ea);
			more_b = assoc_ak_iter_next(&ib, &eb);
		}
		else
			more_b = assoc_ak_iter_next(&ib, &eb);
	}
	PG_RETURN_ASSOCKEY_P(assoc_ak_build(out, n, true));
}
