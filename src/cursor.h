/*
 * cursor.h
 *		Feed positions and cursors (cursor.c).
 */
#ifndef ASSOC_CURSOR_H
#define ASSOC_CURSOR_H

/*
 * A feed position: the writing transaction and the entry's sequence
 * number.  Feed order is (xid, seq); seq alone is not gap-free.
 */
typedef struct FeedPos
{
	uint64 xid; /* a FullTransactionId's value */
	int64  seq;
} FeedPos;

extern int    assoc_cursor_cmp(FeedPos a, FeedPos b);
extern uint64 assoc_cursor_token(int64 incarnation);
extern char  *assoc_cursor_format(int64 incarnation, FeedPos pos);
extern void assoc_cursor_parse(const char *text, uint64 *token, FeedPos *pos);

#endif /* ASSOC_CURSOR_H */
