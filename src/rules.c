/*
 * rules.c
 *		The shared validation rules, each defined once: namespace names,
 *		record ids and op_ids, NULL arguments, and the errors every layer
 *		raises in the same words.
 *
 * Layer: pure library (README, "How the code is organised"); calls
 * assockey_parse.c and PostgreSQL.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "compat.h"
#include "assockey_parse.h"
#include "rules.h"

/* Raise 22004 when argument argno is NULL; what names it in the message. */
void
assoc_check_not_null(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("%s must not be NULL", what)));
}

/*
 * A namespace name is 1-63 characters of [A-Za-z0-9_.-]: the rule of an
 * assockey model, defined once (assoc_ak_validate_model); store.sql's
 * CHECK on assoc.namespaces states it for the table.
 */
static void
check_ns_name(text *ns)
{
	bool ok = assoc_ak_validate_model(VARDATA_ANY(ns),
									  VARSIZE_ANY_EXHDR(ns)) == AK_OK;

	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid namespace name \"%s\"", text_to_cstring(ns)),
				 errdetail("A namespace name is 1 to 63 characters of A-Z, "
						   "a-z, 0-9, \"_\", \".\" and \"-\".")));
}

/*
 * The namespace argument at argno: 22004 when NULL, 22023 unless it is 1-63
 * characters of [A-Za-z0-9_.-].
 */
text *
assoc_ns_arg(FunctionCallInfo fcinfo, int argno)
{
	text *ns;

	assoc_check_not_null(fcinfo, argno, "namespace");
	ns = PG_GETARG_TEXT_PP(argno);
	check_ns_name(ns);
	return ns;
}

/*
 * A record id is 1 to 1024 bytes: the rule of an assockey id, defined once
 * (assoc_ak_validate_id; text never holds the zero byte it also refuses).
 */
void
assoc_check_id(text *id)
{
	int len = VARSIZE_ANY_EXHDR(id);

	if (assoc_ak_validate_id(VARDATA_ANY(id), len) != AK_OK)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid record id: length %d", len),
						errdetail("A record id is 1 to 1024 bytes.")));
}

/* The error for a namespace that is missing or not the caller's. */
void
assoc_error_no_namespace(const char *ns)
{
	ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
					errmsg("namespace \"%s\" does not exist", ns)));
}

/*
 * The error of a retry loop that went round more often than concurrent
 * writers can explain (ASSOC_MAX_ROUNDS): the extension's tables are not
 * what the store expects (see the README's limits), and retrying forever
 * would only hold the backend.
 */
void
assoc_error_rounds(const char *fn, const char *ns, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("assoc.%s could not %s in namespace \"%s\" after %d "
					"attempts",
					fn, what, ns, ASSOC_MAX_ROUNDS),
			 errdetail("Each attempt found the state changed by another "
					   "transaction, more often than concurrent writers "
					   "explain."),
			 errhint("Check that the tables of schema assoc are the "
					 "extension's own, unchanged.")));
}

/* An op_id is 1 to 1024 bytes, as a record id (assoc_ak_validate_id). */
void
assoc_check_op_id(text *op_id)
{
	if (assoc_ak_validate_id(VARDATA_ANY(op_id), VARSIZE_ANY_EXHDR(op_id)) !=
		AK_OK)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid op_id: length %d",
							   (int) VARSIZE_ANY_EXHDR(op_id)),
						errdetail("An op_id is 1 to 1024 bytes.")));
}

/* A jsonb number holding a bigint (a version). */
Jsonb *
assoc_jsonb_from_int8(int64 value)
{
	JsonbValue v;

	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(value);
	return JsonbValueToJsonb(&v);
}

/* A jsonb boolean. */
Jsonb *
assoc_jsonb_from_bool(bool value)
{
	JsonbValue v;

	v.type = jbvBool;
	v.val.boolean = value;
	return JsonbValueToJsonb(&v);
}

/* A jsonb string holding a text value (an id). */
Jsonb *
assoc_jsonb_from_text(text *value)
{
	JsonbValue v;

	v.type = jbvString;
	v.val.string.val = VARDATA_ANY(value);
	v.val.string.len = VARSIZE_ANY_EXHDR(value);
	return JsonbValueToJsonb(&v);
}

/*
 * The error of a call whose objects are gone: the extension was dropped
 * while it ran (it waited for a lock the drop held).  55000, not an
 * internal error: the caller can tell what happened.  what names the
 * missing object ("relation assoc.records").
 */
void
assoc_error_not_installed(const char *what)
{
	ereport(
		ERROR,
		(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		 errmsg("extension \"pg_assoc\" is not installed in this database"),
		 errdetail("The %s does not exist: the extension was dropped while "
				   "the call was running.",
				   what)));
}

/*
 * A table of the store (assoc.table) that the write path cannot use as it
 * is: cause says why ("it has rules", ...).  Raised by the frame's checks
 * from the catalogs and by row access from the locked table's relcache
 * entry.
 */
void
assoc_error_table_refused(const char *table, const char *cause)
{
	ereport(
		ERROR,
		(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		 errmsg("pg_assoc cannot write to table assoc.%s: %s", table, cause),
		 errdetail("The store reads and writes its tables directly and "
				   "needs them as plain heap tables, as the extension "
				   "created them."),
		 errhint("See \"Limits\" in the pg_assoc README.")));
}

/*
 * Push a string (NULL: JSON null) as a key, value or element of the JSON
 * being built: the answers of the search, the ledger's rows, assockeys as
 * JSON.
 */
void
assoc_jsonb_push_string(JsonbParseState **state, JsonbIteratorToken token,
						const char *s, int len)
{
	JsonbValue v;

	if (s == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) s;
		v.val.string.len = len;
	}
	(void) pushJsonbValue(state, token, &v);
}

/* Push a bigint as a JSON number (a version, a count). */
void
assoc_jsonb_push_int8(JsonbParseState **state, JsonbIteratorToken token,
					  int64 value)
{
	JsonbValue v;

	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(value);
	(void) pushJsonbValue(state, token, &v);
}

/* Push a whole jsonb document (a record's data) as a value or element. */
void
assoc_jsonb_push_jsonb(JsonbParseState **state, JsonbIteratorToken token,
					   Jsonb *jb)
{
	JsonbValue v;

	v.type = jbvBinary;
	v.val.binary.data = &jb->root;
	v.val.binary.len = VARSIZE(jb) - VARHDRSZ;
	(void) pushJsonbValue(state, token, &v);
}
