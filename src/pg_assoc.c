/*
 * pg_assoc.c
 *		Module entry point: the module magic block and the settings.
 *
 * The path settings are superuser-only (PGC_SUSET): they change the
 * results of IMMUTABLE functions, so ordinary roles must not be able to
 * vary them between, say, an index build and a query.  The retention
 * settings are server-wide; assoc.notify is each session's choice.
 */
#include "postgres.h"

#include <limits.h>

#include "compat.h"
#include "fmgr.h"
#include "utils/guc.h"

#include "feed.h"
#include "pg_assoc.h"

PG_MODULE_MAGIC;

int assoc_max_path_depth = 128;
int assoc_max_padding = 1024;
int assoc_op_retention = 7 * 24 * 3600;
int assoc_feed_retention = 24 * 3600;

void _PG_init(void);

/*
 * Called when the library is loaded: define the settings, set up the
 * notification machinery (notify.c; only when preloaded), and reserve the
 * "assoc." prefix so that misspelt settings are reported.
 */
void
_PG_init(void)
{
	DefineCustomIntVariable(
		"assoc.max_path_depth", "Largest number of tokens a path may have.",
		"Longer paths are rejected with SQLSTATE 22023.",
		&assoc_max_path_depth, 128, 1, 65536, PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable(
		"assoc.max_padding",
		"Largest number of nulls one write may pad into arrays, in all.",
		"Counted over all entries of a batch; writing far past the end of "
		"an array is rejected with SQLSTATE 22023.",
		&assoc_max_padding, 1024, 0, 100000000, PGC_SUSET, 0, NULL, NULL,
		NULL);

	DefineCustomIntVariable(
		"assoc.op_retention", "How long op_id ledger entries are kept.",
		"Never shorter than assoc.feed_retention in effect.",
		&assoc_op_retention, 7 * 24 * 3600, 60, INT_MAX, PGC_SIGHUP,
		GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomIntVariable("assoc.feed_retention",
							"How long change feed entries are kept.", NULL,
							&assoc_feed_retention, 24 * 3600, 60, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomBoolVariable(
		"assoc.notify", "Whether writes send notifications.",
		"Recorded with each feed entry; off writes the feed only.",
		&assoc_notify, true, PGC_USERSET, 0, NULL, NULL, NULL);

	notify_init();

	MarkGUCPrefixReserved("assoc");
}
