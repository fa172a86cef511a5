-- The path grammar (SPEC §1): assoc.parse_path shows how a path is read.
\set VERBOSITY default

-- Keys, indexes, trimming, skipped empty pieces.
SELECT assoc.parse_path('a.b[2]');
SELECT assoc.parse_path('personalData.firstname');
SELECT assoc.parse_path('children[1]');
SELECT assoc.parse_path('grid[2][3]');
SELECT assoc.parse_path('a..b') = assoc.parse_path('a.b') AS same;
SELECT assoc.parse_path('  a . b ');
SELECT assoc.parse_path('.a.');
SELECT assoc.parse_path('a[ 7 ]');
SELECT assoc.parse_path(E'a[\t7\t]');
SELECT assoc.parse_path('a[01][007]');
SELECT assoc.parse_path('a[2147483647]');
SELECT assoc.parse_path('first name.last name');
SELECT assoc.parse_path('a [0]');          -- the key keeps inner white space
SELECT assoc.parse_path('4.05');           -- digit keys stay keys
SELECT assoc.parse_path('ключ.名前[0]');
SELECT assoc.parse_path(NULL) IS NULL AS strict;

-- Rejected: empty, no pieces, empty keys.
SELECT assoc.parse_path('');
SELECT assoc.parse_path('.');
SELECT assoc.parse_path(' ');
SELECT assoc.parse_path(' . .. ');
SELECT assoc.parse_path('[0]');
SELECT assoc.parse_path('a.[1]');
SELECT assoc.parse_path('a. [1]');
-- Rejected: anything but decimal digits between brackets.
SELECT assoc.parse_path('a[-1]');
SELECT assoc.parse_path('a[x]');
SELECT assoc.parse_path('a[1e2]');
SELECT assoc.parse_path('a[0x2]');
SELECT assoc.parse_path('a[]');
SELECT assoc.parse_path('a[ ]');
SELECT assoc.parse_path('a[1 2]');
SELECT assoc.parse_path('a[+1]');
SELECT assoc.parse_path('a[1.5]');
SELECT assoc.parse_path('a[2147483648]');
SELECT assoc.parse_path('a[99999999999999999999]');
-- Rejected: unbalanced or stray brackets, text after the last bracket.
SELECT assoc.parse_path('a[0');
SELECT assoc.parse_path('a]0[');
SELECT assoc.parse_path('a[0]b');
SELECT assoc.parse_path('a[0]]');
SELECT assoc.parse_path('a[0] [1]');
SELECT assoc.parse_path(']');
SELECT assoc.parse_path('a[[0]]');
SELECT assoc.parse_path('a.b[0.c]');     -- "." splits first: "b[0" is unclosed

-- Forbidden segments, in every position, exact and case-sensitive.
SELECT assoc.parse_path('__proto__');
SELECT assoc.parse_path('constructor');
SELECT assoc.parse_path('prototype');
SELECT assoc.parse_path('a.__proto__.b');
SELECT assoc.parse_path('arr[0].constructor');
SELECT assoc.parse_path('a.b.prototype');
SELECT assoc.parse_path(' __proto__ ');
SELECT assoc.parse_path('__proto__[0]');
SELECT assoc.parse_path('a.constructor [1]');
SELECT assoc.parse_path('__PROTO__.constructors.user_proto.Prototype._proto_');

-- The depth limit counts tokens; it is a superuser setting.
SELECT jsonb_array_length(assoc.parse_path(repeat('a.', 127) || 'a'));
SELECT assoc.parse_path(repeat('a.', 128) || 'a');
SELECT assoc.parse_path('a' || repeat('[0]', 128));
SET assoc.max_path_depth = 3;
SELECT assoc.parse_path('a.b.c');
SELECT assoc.parse_path('a.b[0][1]');
RESET assoc.max_path_depth;
SELECT name, setting, context FROM pg_settings WHERE name IN ('assoc.max_path_depth', 'assoc.max_padding') ORDER BY name;

-- A huge path is quoted clipped in the message.
SELECT assoc.parse_path(repeat('x', 300) || '[y]');
