/*
 * pg_assoc.c
 *		Module entry point: the module magic block, and _PG_init, which
 *		calls each component's own init; each defines its own settings.
 *
 * Layer: module, the top (README, "How the code is organised"); calls
 * only the components' init functions.
 */
#include "postgres.h"

#include "compat.h"
#include "fmgr.h"
#include "utils/guc.h"

#include "document.h"
#include "forward.h"
#include "horizon.h"
#include "listeners.h"
#include "maintenance.h"
#include "notify.h"
#include "search.h"

PG_MODULE_MAGIC;

void _PG_init(void);

/*
 * Called when the library is loaded: each component defines its settings
 * (document.c the path settings, maintenance.c the retention settings,
 * notify.c assoc.notify and, only when preloaded, the notification
 * machinery, listeners.c (preloaded only) the registry of listened
 * channels, search.c the search settings), then the "assoc." prefix is
 * reserved so that misspelt settings are reported.
 */
void
_PG_init(void)
{
	assoc_document_init();
	assoc_maintenance_init();
	assoc_notify_init();
	assoc_listeners_init();
	assoc_forward_init();
	assoc_horizon_init();
	assoc_search_init();

	MarkGUCPrefixReserved("assoc");
}
