/*
 * assockey_selfuncs.c
 *	  Element statistics (ANALYZE) and selectivity estimators for the
 *	  containment and overlap operators of assockey.
 *
 * ANALYZE: assockey_typanalyze first runs the standard scalar statistics
 * (MCV, histogram, correlation of whole keys, for = and <), then adds two
 * slots in the shape arrays use:
 *	- STATISTIC_KIND_MCELEM: the most common associations as text
 *	  "model:id" (sorted in canonical element order) with the fraction of
 *	  non-null rows containing each, followed by min freq, max freq and 0
 *	  (null-element frequency, always 0 here);
 *	- STATISTIC_KIND_DECHIST: an equi-depth histogram of the number of
 *	  associations per row, followed by the average.
 * Counting is exact: all associations of the sample are sorted and counted,
 * which is O(sample size) memory, the sample being in memory anyway.
 *
 * Estimation (assockey_contsel), assuming associations independent:
 *	k @> q	product of freq(e) for e in q (1 for an empty q)
 *	k && q	1 - product of (1 - freq(e))	(0 for an empty q)
 *	k <@ q	average over the count histogram of p^n, where p = sum of
 *			freq(e) over q / average count: the chance that each of a
 *			row's n associations falls into q
 * An association missing from MCELEM gets half the smallest stored
 * frequency, as array selectivity does.  The decoded statistics are cached
 * per backend (column_stats).
 *
 * Layer: SQL entry points, keys family (README, "How the code is
 * organised"); calls assockey.c and assockey_parse.c.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/vacuum.h"
#include "compat.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"

#include "assockey.h"

/* Defaults when there are no statistics (as for arrays). */
#define AK_DEFAULT_CONTAIN_SEL 0.005
#define AK_DEFAULT_OVERLAP_SEL 0.01

/* Saved state of the standard typanalyze we wrap. */
typedef struct AkAnalyzeExtra
{
	AnalyzeAttrComputeStatsFunc std_compute_stats;
	void                       *std_extra_data;
} AkAnalyzeExtra;

/* An association with its number of sample rows. */
typedef struct AkCounted
{
	AkElem e;
	int    count;
} AkCounted;

/* qsort: canonical element order. */
static int
ak_counted_elem_cmp(const void *a, const void *b)
{
	return assoc_ak_elem_cmp(&((const AkCounted *) a)->e,
							 &((const AkCounted *) b)->e);
}

/* qsort: most frequent first, ties in element order (deterministic). */
static int
ak_counted_freq_cmp(const void *a, const void *b)
{
	const AkCounted *x = a;
	const AkCounted *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return assoc_ak_elem_cmp(&x->e, &y->e);
}

/* qsort: ints ascending. */
static int
ak_int_cmp(const void *a, const void *b)
{
	int x = *(const int *) a;
	int y = *(const int *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * ak_first_free_slot: index of the first unused statistics slot after the
 * standard ones, or -1.
 */
static int
ak_first_free_slot(VacAttrStats *stats)
{
	int i;

	for (i = 0; i < STATISTIC_NUM_SLOTS; i++)
		if (stats->stakind[i] == 0)
			return i;
	return -1;
}

/*
 * ak_compute_stats: compute_stats callback installed by assockey_typanalyze.
 * Runs the standard scalar statistics, then the element statistics
 * described at the top of the file.
 */
static void
ak_compute_stats(VacAttrStats *stats, AnalyzeAttrFetchFunc fetchfunc,
				 int samplerows, double totalrows)
{
	AkAnalyzeExtra *extra = (AkAnalyzeExtra *) stats->extra_data;
	AkCounted      *all;
	int             nall = 0, cap = 1024;
	int            *counts;
	int             nonnull = 0;
	int             i, ndistinct, num_mcelem, slot;
	MemoryContext   old;

	/* Standard statistics of whole values first. */
	stats->extra_data = extra->std_extra_data;
	extra->std_compute_stats(stats, fetchfunc, samplerows, totalrows);
	stats->extra_data = extra;

	all = palloc(sizeof(AkCounted) * cap);
	counts = palloc(sizeof(int) * Max(samplerows, 1));
	for (i = 0; i < samplerows; i++)
	{
		bool      isnull;
		Datum     value = fetchfunc(stats, i, &isnull);
		AssocKey *key;
		AkIter    it;
		AkElem    e;

		vacuum_delay_point();
		if (isnull)
			continue;
		/* The detoasted copy must live until we are done: not freed. */
		key = DatumGetAssocKeyP(value);
		counts[nonnull++] = key->nelems;
		if (nall + key->nelems > cap)
		{
			while (nall + key->nelems > cap)
				cap *= 2;
			all = repalloc_huge(all, sizeof(AkCounted) * (Size) cap);
		}
		assoc_ak_iter_init(&it, key);
		while (assoc_ak_iter_next(&it, &e))
		{
			all[nall].e = e;
			all[nall].count = 1;
			nall++;
		}
	}
	if (nonnull == 0)
		return;

	/* Count each association: rows hold distinct ones, runs are rows. */
	qsort(all, nall, sizeof(AkCounted), ak_counted_elem_cmp);
	ndistinct = 0;
	for (i = 0; i < nall; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (ndistinct > 0 &&
			assoc_ak_elem_cmp(&all[ndistinct - 1].e, &all[i].e) == 0)
			all[ndistinct - 1].count++;
		else
			all[ndistinct++] = all[i];
	}

	old = MemoryContextSwitchTo(stats->anl_context);

	/* MCELEM: the most frequent associations, stored in element order. */
	num_mcelem = Min(ndistinct, compat_stattarget(stats) * 10);
	slot = ak_first_free_slot(stats);
	if (num_mcelem > 0 && slot >= 0)
	{
		Datum  *values = palloc(sizeof(Datum) * num_mcelem);
		float4 *freqs = palloc(sizeof(float4) * (num_mcelem + 3));
		float4  minfreq = 1, maxfreq = 0;

		if (num_mcelem < ndistinct)
			qsort(all, ndistinct, sizeof(AkCounted), ak_counted_freq_cmp);
		qsort(all, num_mcelem, sizeof(AkCounted), ak_counted_elem_cmp);
		for (i = 0; i < num_mcelem; i++)
		{
			text *t =
				palloc(VARHDRSZ + all[i].e.model_len + 1 + all[i].e.id_len);
			size_t len = assoc_ak_elem_text(&all[i].e, VARDATA(t));

			SET_VARSIZE(t, VARHDRSZ + len);
			values[i] = PointerGetDatum(t);
			freqs[i] = (float4) all[i].count / (float4) nonnull;
			minfreq = Min(minfreq, freqs[i]);
			maxfreq = Max(maxfreq, freqs[i]);
		}
		freqs[num_mcelem] = minfreq;
		freqs[num_mcelem + 1] = maxfreq;
		freqs[num_mcelem + 2] = 0.0;

		stats->stakind[slot] = STATISTIC_KIND_MCELEM;
		stats->staop[slot] = InvalidOid;
		stats->stacoll[slot] = InvalidOid;
		stats->stanumbers[slot] = freqs;
		stats->numnumbers[slot] = num_mcelem + 3;
		stats->stavalues[slot] = values;
		stats->numvalues[slot] = num_mcelem;
		stats->statypid[slot] = TEXTOID;
		stats->statyplen[slot] = -1;
		stats->statypbyval[slot] = false;
		stats->statypalign[slot] = TYPALIGN_INT;
	}

	/* DECHIST: distribution of associations per row, plus the average. */
	slot = ak_first_free_slot(stats);
	if (slot >= 0)
	{
		int     num_hist = Min(nonnull, compat_stattarget(stats) + 1);
		float4 *hist;
		double  sum = 0;

		num_hist = Max(num_hist, 2);
		hist = palloc(sizeof(float4) * (num_hist + 1));
		qsort(counts, nonnull, sizeof(int), ak_int_cmp);
		for (i = 0; i < nonnull; i++)
			sum += counts[i];
		for (i = 0; i < num_hist; i++)
			hist[i] = (float4)
				counts[(int) ((int64) i * (nonnull - 1) / (num_hist - 1))];
		hist[num_hist] = (float4) (sum / nonnull);
		stats->stakind[slot] = STATISTIC_KIND_DECHIST;
		stats->staop[slot] = InvalidOid;
		stats->stacoll[slot] = InvalidOid;
		stats->stanumbers[slot] = hist;
		stats->numnumbers[slot] = num_hist + 1;
	}
	MemoryContextSwitchTo(old);
}

PG_FUNCTION_INFO_V1(assockey_typanalyze);
/*
 * assockey_typanalyze: the type's ANALYZE hook.  Sets up the standard
 * statistics and wraps their compute function with ak_compute_stats.
 */
Datum
assockey_typanalyze(PG_FUNCTION_ARGS)
{
	VacAttrStats   *stats = (VacAttrStats *) PG_GETARG_POINTER(0);
	AkAnalyzeExtra *extra;

	if (!std_typanalyze(stats))
		PG_RETURN_BOOL(false);
	extra = palloc(sizeof(AkAnalyzeExtra));
	extra->std_compute_stats = stats->compute_stats;
	extra->std_extra_data = stats->extra_data;
	stats->compute_stats = ak_compute_stats;
	stats->extra_data = extra;
	PG_RETURN_BOOL(true);
}

/*
 * The element statistics of one column, decoded.  Decoding the MCELEM slot
 * (decompressing it and splitting a thousand "model:id" texts) costs more
 * than the rest of planning a simple query, and gives the same result for
 * every plan until the column is analysed again; so each backend keeps the
 * decoded form of the last few columns, dropped when their pg_statistic
 * row changes.
 */
typedef struct AkColumnStats
{
	Oid           relid; /* InvalidOid: unused entry */
	int16         attnum;
	bool          inherit;
	uint32        hashvalue; /* of the row in the pg_statistic syscache */
	MemoryContext cxt;       /* holds everything below */
	int           nelems;    /* most common associations; 0: no MCELEM */
	AkElem       *elems;     /* ... in canonical order */
	float4       *freqs;     /* ... and the fraction of rows with each */
	float4        min_freq;  /* smallest frequency stored */
	int           nhist;     /* DECHIST numbers, average last; 0: none */
	float4       *hist;
} AkColumnStats;

#define AK_STATS_CACHED 16

static AkColumnStats stats_cache[AK_STATS_CACHED];
static int           stats_next = 0; /* the entry to replace next */
static bool          stats_callback_registered = false;

/* Forget a cached column. */
static void
stats_forget(AkColumnStats *cs)
{
	if (cs->cxt != NULL)
		MemoryContextDelete(cs->cxt);
	memset(cs, 0, sizeof(AkColumnStats));
}

/*
 * Syscache callback for pg_statistic: forget the columns whose row changed
 * (hashvalue 0: everything may have changed).
 */
static void
stats_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	for (int i = 0; i < AK_STATS_CACHED; i++)
		if (OidIsValid(stats_cache[i].relid) &&
			(hashvalue == 0 || stats_cache[i].hashvalue == hashvalue))
			stats_forget(&stats_cache[i]);
}

/* Decode statsTuple's MCELEM and DECHIST slots into cs->cxt. */
static void
stats_decode(AkColumnStats *cs, HeapTuple statsTuple)
{
	AttStatsSlot  mcelem, hist;
	MemoryContext old = MemoryContextSwitchTo(cs->cxt);

	if (get_attstatsslot(&mcelem, statsTuple, STATISTIC_KIND_MCELEM,
						 InvalidOid,
						 ATTSTATSSLOT_VALUES | ATTSTATSSLOT_NUMBERS))
	{
		/* Values, then min freq, max freq and null-element freq. */
		if (mcelem.nnumbers == mcelem.nvalues + 3 && mcelem.nvalues > 0)
		{
			cs->elems = palloc(sizeof(AkElem) * mcelem.nvalues);
			cs->freqs = palloc(sizeof(float4) * mcelem.nvalues);
			for (int i = 0; i < mcelem.nvalues; i++)
			{
				text       *t = DatumGetTextPP(mcelem.values[i]);
				size_t      len = VARSIZE_ANY_EXHDR(t);
				char       *s = pnstrdup(VARDATA_ANY(t), len);
				const char *colon = memchr(s, ':', len);

				if (colon == NULL) /* not written by our typanalyze */
					break;
				cs->elems[cs->nelems].model = s;
				cs->elems[cs->nelems].model_len = colon - s;
				cs->elems[cs->nelems].id = colon + 1;
				cs->elems[cs->nelems].id_len = len - (colon - s) - 1;
				cs->freqs[cs->nelems] = mcelem.numbers[i];
				cs->nelems++;
			}
			if (cs->nelems < mcelem.nvalues)
				cs->nelems = 0;
			cs->min_freq = mcelem.numbers[mcelem.nvalues];
		}
		free_attstatsslot(&mcelem);
	}
	if (get_attstatsslot(&hist, statsTuple, STATISTIC_KIND_DECHIST, InvalidOid,
						 ATTSTATSSLOT_NUMBERS))
	{
		if (hist.nnumbers >= 3)
		{
			cs->hist = palloc(sizeof(float4) * hist.nnumbers);
			memcpy(cs->hist, hist.numbers, sizeof(float4) * hist.nnumbers);
			cs->nhist = hist.nnumbers;
		}
		free_attstatsslot(&hist);
	}
	MemoryContextSwitchTo(old);
}

/*
 * The decoded statistics of the column statsTuple describes, from the
 * cache or decoded now.  NULL without a statistics tuple.
 */
static AkColumnStats *
column_stats(HeapTuple statsTuple)
{
	Form_pg_statistic st;
	AkColumnStats    *cs;

	if (!HeapTupleIsValid(statsTuple))
		return NULL;
	st = (Form_pg_statistic) GETSTRUCT(statsTuple);
	for (int i = 0; i < AK_STATS_CACHED; i++)
	{
		cs = &stats_cache[i];
		if (cs->relid == st->starelid && cs->attnum == st->staattnum &&
			cs->inherit == st->stainherit)
			return cs;
	}
	if (!stats_callback_registered)
	{
		CacheRegisterSyscacheCallback(STATRELATTINH, stats_invalidate,
									  (Datum) 0);
		stats_callback_registered = true;
	}
	cs = &stats_cache[stats_next];
	stats_next = (stats_next + 1) % AK_STATS_CACHED;
	stats_forget(cs);
	cs->cxt =
		AllocSetContextCreate(CacheMemoryContext, "assockey column statistics",
							  ALLOCSET_SMALL_SIZES);
	stats_decode(cs, statsTuple);
	cs->relid = st->starelid;
	cs->attnum = st->staattnum;
	cs->inherit = st->stainherit;
	cs->hashvalue = GetSysCacheHashValue3(
		STATRELATTINH, ObjectIdGetDatum(st->starelid),
		Int16GetDatum(st->staattnum), BoolGetDatum(st->stainherit));
	return cs;
}

/*
 * ak_elem_freq: frequency of association q according to MCELEM, or
 * default_freq when it is not a most common element.
 */
static double
ak_elem_freq(const AkElem *q, const AkColumnStats *cs, double default_freq)
{
	int lo = 0, hi = cs->nelems - 1;

	while (lo <= hi)
	{
		int mid = lo + (hi - lo) / 2;
		int c = assoc_ak_elem_cmp(q, &cs->elems[mid]);

		if (c == 0)
			return cs->freqs[mid];
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return default_freq;
}

typedef enum AkSelKind
{
	AK_SEL_CONTAINS,  /* column @> const */
	AK_SEL_CONTAINED, /* column <@ const */
	AK_SEL_OVERLAP    /* column && const */
} AkSelKind;

/*
 * ak_estimate: selectivity among non-null rows of "column OP query" from the
 * column's decoded statistics, or a default when element statistics are
 * missing.
 */
static double
ak_estimate(const AkColumnStats *cs, AkSelKind kind, const AssocKey *query)
{
	double default_freq, selec;
	AkIter it;
	AkElem e;

	/* Answers that need no statistics. */
	if (query->nelems == 0 && kind == AK_SEL_CONTAINS)
		return 1.0;
	if (query->nelems == 0 && kind == AK_SEL_OVERLAP)
		return 0.0;

	if (cs == NULL || cs->nelems == 0)
	{
		if (kind == AK_SEL_OVERLAP)
			return AK_DEFAULT_OVERLAP_SEL;
		return AK_DEFAULT_CONTAIN_SEL;
	}
	default_freq = Min(cs->min_freq / 2, AK_DEFAULT_CONTAIN_SEL);

	assoc_ak_iter_init(&it, query);
	switch (kind)
	{
		case AK_SEL_CONTAINS:
			selec = 1.0;
			while (assoc_ak_iter_next(&it, &e))
				selec *= ak_elem_freq(&e, cs, default_freq);
			break;
		case AK_SEL_OVERLAP:
			selec = 1.0;
			while (assoc_ak_iter_next(&it, &e))
				selec *= 1.0 - ak_elem_freq(&e, cs, default_freq);
			selec = 1.0 - selec;
			break;
		case AK_SEL_CONTAINED:
		default:
		{
			double occ = 0, avg, p;

			if (cs->nhist == 0)
				return AK_DEFAULT_CONTAIN_SEL;
			while (assoc_ak_iter_next(&it, &e))
				occ += ak_elem_freq(&e, cs, default_freq);
			avg = cs->hist[cs->nhist - 1];
			p = avg > 0 ? Min(occ / avg, 1.0) : 1.0;
			selec = 0;
			for (int i = 0; i < cs->nhist - 1; i++)
				selec += pow(p, cs->hist[i]);
			selec /= cs->nhist - 1;
		}
		break;
	}
	CLAMP_PROBABILITY(selec);
	return selec;
}

PG_FUNCTION_INFO_V1(assockey_contsel);
/*
 * assockey_contsel: restriction estimator of @>, <@ and &&.  Works out which
 * side the column is on (a commuted "const <@ col" is "col @> const"), then
 * estimates from element statistics and scales by the non-null fraction.
 */
Datum
assockey_contsel(PG_FUNCTION_ARGS)
{
	PlannerInfo     *root = (PlannerInfo *) PG_GETARG_POINTER(0);
	Oid              opoid = PG_GETARG_OID(1);
	List            *args = (List *) PG_GETARG_POINTER(2);
	int              varRelid = PG_GETARG_INT32(3);
	VariableStatData vardata;
	Node            *other;
	bool             varonleft;
	char            *opname;
	AkSelKind        kind;
	double           selec, nullfrac = 0;
	Const           *c;

	opname = get_opname(opoid);
	if (opname == NULL)
		PG_RETURN_FLOAT8(AK_DEFAULT_CONTAIN_SEL);
	if (strcmp(opname, "&&") == 0)
		kind = AK_SEL_OVERLAP;
	else if (strcmp(opname, "@>") == 0)
		kind = AK_SEL_CONTAINS;
	else
		kind = AK_SEL_CONTAINED;

	if (!get_restriction_variable(root, args, varRelid, &vardata, &other,
								  &varonleft))
		PG_RETURN_FLOAT8(kind == AK_SEL_OVERLAP ? AK_DEFAULT_OVERLAP_SEL
												: AK_DEFAULT_CONTAIN_SEL);
	if (!IsA(other, Const))
	{
		ReleaseVariableStats(vardata);
		PG_RETURN_FLOAT8(kind == AK_SEL_OVERLAP ? AK_DEFAULT_OVERLAP_SEL
												: AK_DEFAULT_CONTAIN_SEL);
	}
	c = (Const *) other;
	if (c->constisnull)
	{
		ReleaseVariableStats(vardata);
		PG_RETURN_FLOAT8(0.0);
	}
	if (!varonleft && kind != AK_SEL_OVERLAP)
		kind = kind == AK_SEL_CONTAINS ? AK_SEL_CONTAINED : AK_SEL_CONTAINS;

	if (HeapTupleIsValid(vardata.statsTuple))
		nullfrac =
			((Form_pg_statistic) GETSTRUCT(vardata.statsTuple))->stanullfrac;
	selec = ak_estimate(column_stats(vardata.statsTuple), kind,
						DatumGetAssocKeyP(c->constvalue));
	ReleaseVariableStats(vardata);
	selec *= 1.0 - nullfrac;
	CLAMP_PROBABILITY(selec);
	PG_RETURN_FLOAT8(selec);
}
