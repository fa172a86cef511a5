/*
 * rules.h
 *		The shared validation rules (rules.c), each defined once.
 *
 * The .c file that includes this header includes postgres.h first, as
 * every header of src/ expects.
 */
#ifndef ASSOC_RULES_H
#define ASSOC_RULES_H

#include "utils/jsonb.h"

/*
 * Most rounds of a retry loop (reading a record again after a concurrent
 * change, locking a namespace again after it was created anew).  Each
 * round that fails has seen another transaction win, so even a record that
 * many writers update at once needs far fewer; more mean the tables are not
 * what the store expects, and the loop ends with assoc_error_rounds (each
 * round takes microseconds and frees its memory, so the bound is reached
 * quickly and without growth).
 */
#define ASSOC_MAX_ROUNDS 1000

/*
 * How long a call that meets a namespace's fence for a move waits before
 * it fails with 40001 (README, "Moving a namespace").
 */
#define ASSOC_FENCE_PAUSE_MS 200

extern text *assoc_ns_arg(FunctionCallInfo fcinfo, int argno);
extern void  assoc_check_id(text *id);
extern void  assoc_check_op_id(text *op_id);
extern void  assoc_error_no_namespace(const char *ns) pg_attribute_noreturn();
extern void
assoc_check_not_null(FunctionCallInfo fcinfo, int argno, const char *what);
extern void
assoc_error_not_installed(const char *what) pg_attribute_noreturn();
extern void assoc_error_rounds(const char *fn, const char *ns,
							   const char *what) pg_attribute_noreturn();
extern void assoc_error_table_refused(const char *table, const char *cause)
	pg_attribute_noreturn();

/* JSON scalars, built one way (ledger results, SQL function results). */
extern Jsonb *assoc_jsonb_from_int8(int64 value);
extern Jsonb *assoc_jsonb_from_bool(bool value);
extern Jsonb *assoc_jsonb_from_text(text *value);

/* Members and elements of JSON being built (pushJsonbValue), one way. */
extern void
assoc_jsonb_push_string(JsonbParseState **state, JsonbIteratorToken token,
						const char *s, int len);
extern void assoc_jsonb_push_int8(JsonbParseState  **state,
								  JsonbIteratorToken token, int64 value);
extern void assoc_jsonb_push_jsonb(JsonbParseState  **state,
								   JsonbIteratorToken token, Jsonb *jb);

#endif /* ASSOC_RULES_H */
