/*
 * assockey_gin.c
 *	  The default GIN operator class of assockey, for @> <@ && =.
 *
 * One GIN key per association: the bytes "model:id" as a bytea, ordered by
 * byteacmp.  Indexing the pair as one key (rather than model and id
 * separately, as hstore does) means a containment query needs exactly one
 * posting list per queried association, and because the key is exact, @>
 * and && need no recheck: the index answer is the answer.  = and <@ are
 * rechecked (the index cannot see associations outside the query).
 *
 * A 64-bit hash key was tried first (test/bench/assockey_bench.sh): the
 * index was 11% smaller than the text[] GIN index, but every match had to
 * be rechecked against the heap (a hash can collide), which made "contains
 * one" and "overlap" about 10% slower than text[] GIN.  32-bit hashes gave
 * the same size as 64-bit ones (entry tuples are MAXALIGNed).
 *
 * Empty sets: "k <@ q" must find empty keys (GIN_SEARCH_MODE_INCLUDE_EMPTY),
 * "k @> '{}'" matches every non-null key (GIN_SEARCH_MODE_ALL), "k && '{}'"
 * matches nothing (no keys in default mode), "k = '{}'" finds only empty
 * keys (INCLUDE_EMPTY with no keys, rechecked).
 *
 * Layer: SQL entry points, keys family (README, "How the code is
 * organised"); calls assockey.c.
 */
#include "postgres.h"

#include "access/gin.h"
#include "access/stratnum.h"

#include "compat.h"
#include "assockey.h"

/* Strategy numbers, as for the core array_ops GIN opclass. */
#define AK_GIN_OVERLAP   1
#define AK_GIN_CONTAINS  2
#define AK_GIN_CONTAINED 3
#define AK_GIN_EQUAL     4

/*
 * ak_gin_keys: the GIN keys of a key value, one exact key per association:
 * a bytea holding "model:id" (unambiguous, models have no ':').
 */
static Datum *
ak_gin_keys(const AssocKey *key, int32 *nkeys)
{
	Datum *keys;
	AkIter it;
	AkElem e;
	int    n = 0;

	*nkeys = key->nelems;
	if (key->nelems == 0)
		return NULL;
	keys = palloc(sizeof(Datum) * key->nelems);
	assoc_ak_iter_init(&it, key);
	while (assoc_ak_iter_next(&it, &e))
	{
		bytea *k = palloc(VARHDRSZ + e.model_len + 1 + e.id_len);

		SET_VARSIZE(k, VARHDRSZ + assoc_ak_elem_text(&e, VARDATA(k)));
		keys[n++] = PointerGetDatum(k);
	}
	return keys;
}

PG_FUNCTION_INFO_V1(assockey_gin_extract_value);
/*
 * assockey_gin_extract_value: keys of an indexed value.  An empty key yields
 * no keys, which GIN records as an "empty item" for INCLUDE_EMPTY searches.
 * GIN itself sorts the keys and removes duplicates.
 */
Datum
assockey_gin_extract_value(PG_FUNCTION_ARGS)
{
	AssocKey *key = PG_GETARG_ASSOCKEY_P(0);
	int32    *nkeys = (int32 *) PG_GETARG_POINTER(1);

	PG_RETURN_POINTER(ak_gin_keys(key, nkeys));
}

PG_FUNCTION_INFO_V1(assockey_gin_extract_query);
/*
 * assockey_gin_extract_query: keys of a query value and the search mode that
 * gives the empty-set semantics described at the top of this file.
 */
Datum
assockey_gin_extract_query(PG_FUNCTION_ARGS)
{
	AssocKey      *query = PG_GETARG_ASSOCKEY_P(0);
	int32         *nkeys = (int32 *) PG_GETARG_POINTER(1);
	StrategyNumber strategy = PG_GETARG_UINT16(2);
	int32         *searchMode = (int32 *) PG_GETARG_POINTER(6);
	Datum         *keys = ak_gin_keys(query, nkeys);

	switch (strategy)
	{
		case AK_GIN_OVERLAP:
			/* no keys in default mode: GIN knows nothing can match */
			*searchMode = GIN_SEARCH_MODE_DEFAULT;
			break;
		case AK_GIN_CONTAINS:
			*searchMode =
				*nkeys == 0 ? GIN_SEARCH_MODE_ALL : GIN_SEARCH_MODE_DEFAULT;
			break;
		case AK_GIN_CONTAINED:
			/* the empty set is contained in every query */
			*searchMode = GIN_SEARCH_MODE_INCLUDE_EMPTY;
			break;
		case AK_GIN_EQUAL:
			*searchMode = *nkeys == 0 ? GIN_SEARCH_MODE_INCLUDE_EMPTY
									  : GIN_SEARCH_MODE_DEFAULT;
			break;
		default:
			elog(ERROR, "assockey GIN: unrecognized strategy number %d",
				 strategy);
	}
	PG_RETURN_POINTER(keys);
}

PG_FUNCTION_INFO_V1(assockey_gin_consistent);
/*
 * assockey_gin_consistent: could the indexed item match, given which query
 * keys it has?  Keys are exact, so @> and && are decided here; = and <@ are
 * rechecked, since the keys cannot tell whether the item has associations
 * outside the query.
 */
Datum
assockey_gin_consistent(PG_FUNCTION_ARGS)
{
	bool          *check = (bool *) PG_GETARG_POINTER(0);
	StrategyNumber strategy = PG_GETARG_UINT16(1);
	int32          nkeys = PG_GETARG_INT32(3);
	bool          *recheck = (bool *) PG_GETARG_POINTER(5);
	bool           res = true;
	int32          i;

	switch (strategy)
	{
		case AK_GIN_OVERLAP:
			*recheck = false;
			res = false;
			for (i = 0; i < nkeys && !res; i++)
				res = check[i];
			break;
		case AK_GIN_CONTAINS:
			*recheck = false;
			for (i = 0; i < nkeys && res; i++)
				res = check[i];
			break;
		case AK_GIN_EQUAL:
			*recheck = true;
			for (i = 0; i < nkeys && res; i++)
				res = check[i];
			break;
		case AK_GIN_CONTAINED:
			*recheck = true;
			res = true;
			break;
		default:
			elog(ERROR, "assockey GIN: unrecognized strategy number %d",
				 strategy);
	}
	PG_RETURN_BOOL(res);
}

PG_FUNCTION_INFO_V1(assockey_gin_triconsistent);
/*
 * assockey_gin_triconsistent: ternary version of consistent, which lets GIN
 * skip posting lists ("all keys required" for @> and =).  Answers GIN_TRUE
 * only for the exact strategies (@>, &&); = and <@ answer GIN_MAYBE, which
 * asks for the recheck.
 */
Datum
assockey_gin_triconsistent(PG_FUNCTION_ARGS)
{
	GinTernaryValue *check = (GinTernaryValue *) PG_GETARG_POINTER(0);
	StrategyNumber   strategy = PG_GETARG_UINT16(1);
	int32            nkeys = PG_GETARG_INT32(3);
	GinTernaryValue  res;
	int32            i;

	switch (strategy)
	{
		case AK_GIN_OVERLAP:
			res = GIN_FALSE;
			for (i = 0; i < nkeys && res != GIN_TRUE; i++)
				if (check[i] == GIN_TRUE)
					res = GIN_TRUE;
				else if (check[i] == GIN_MAYBE)
					res = GIN_MAYBE;
			break;
		case AK_GIN_CONTAINS:
		case AK_GIN_EQUAL:
			res = GIN_TRUE;
			for (i = 0; i < nkeys && res != GIN_FALSE; i++)
				if (check[i] == GIN_FALSE)
					res = GIN_FALSE;
				else if (check[i] == GIN_MAYBE)
					res = GIN_MAYBE;
			if (strategy == AK_GIN_EQUAL && res == GIN_TRUE)
				res = GIN_MAYBE;
			break;
		case AK_GIN_CONTAINED:
			res = GIN_MAYBE;
			break;
		default:
			elog(ERROR, "assockey GIN: unrecognized strategy number %d",
				 strategy);
			res = GIN_MAYBE; /* keep compiler quiet */
	}
	PG_RETURN_GIN_TERNARY_VALUE(res);
}
