/*
 * path_fuzz.c
 *		libFuzzer target for the path grammar (src/path.c).
 *
 * Feeds arbitrary bytes to assoc_path_parse() and checks the invariants
 * the rest of the extension relies on: tokens and error ranges stay inside
 * the input, keys are non-empty and free of '.', '[' and ']', no accepted
 * key is a forbidden segment, indexes are in range, and the token count
 * respects the limit.  Any violation aborts, which libFuzzer reports.
 *
 *   make test/fuzz/path_fuzz && test/fuzz/path_fuzz -runs=10000000
 */
#include <stdlib.h>
#include <string.h>

#include "path.h"

#define MAX_TOKENS 16

/* Abort (a libFuzzer crash) when an invariant does not hold. */
static void
check(int condition)
{
	if (!condition)
		abort();
}

/* Trimmed length of a key, as the forbidden-segment check sees it. */
static size_t
trimmed_len(const char *key, size_t len)
{
	while (len > 0 && (key[len - 1] == ' ' || key[len - 1] == '\t' ||
					   key[len - 1] == '\n' || key[len - 1] == '\r' ||
					   key[len - 1] == '\f' || key[len - 1] == '\v'))
		len--;
	return len;
}

/* The fuzzer's entry point: one input, one parse, all invariants. */
int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	/* A private copy, so reads past the end are caught by ASan. */
	char           *text = malloc(size ? size : 1);
	AssocPathToken  tokens[MAX_TOKENS];
	AssocPathResult result;
	AssocPathStatus status;

	memcpy(text, data, size);
	status = assoc_path_parse(text, size, tokens, MAX_TOKENS, &result);
	check(status == result.status);

	if (status == ASSOC_PATH_OK)
	{
		check(result.ntokens >= 1 && result.ntokens <= MAX_TOKENS);
		check(!tokens[0].is_index);
		for (int i = 0; i < result.ntokens; i++)
		{
			const AssocPathToken *t = &tokens[i];

			if (t->is_index)
			{
				check(t->index >= 0 && t->index <= ASSOC_PATH_MAX_INDEX);
				continue;
			}
			check(t->keylen > 0);
			check(t->key >= text && t->key + t->keylen <= text + size);
			check(memchr(t->key, '.', t->keylen) == NULL);
			check(memchr(t->key, '[', t->keylen) == NULL);
			check(memchr(t->key, ']', t->keylen) == NULL);
			check(!assoc_path_is_forbidden_key(
				t->key, trimmed_len(t->key, (size_t) t->keylen)));
		}
	}
	else
	{
		check(result.err_start <= size);
		check(result.err_len <= size - result.err_start);
		check(assoc_path_status_text(status) != NULL);
	}
	free(text);
	return 0;
}
