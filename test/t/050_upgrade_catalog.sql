-- A canonical description of the pg_assoc extension, read from the catalogs,
-- for test/t/050_upgrade.pl: one line per property of every object that
-- pg_depend records as a member of the extension (deptype 'e') and of the
-- objects hanging off them (columns, constraints, indexes, triggers, rules,
-- policies, array types, operator family members, initial privileges).
--
-- Every line is "<kind>: <name> | <property> = <value>" (or "IS NULL");
-- a value of several lines gives one line each, numbered "[0001]".  Objects
-- are named, schema-qualified, never by OID, and lines are sorted bytewise,
-- so an upgraded database and a fresh install give the same text exactly
-- when their extension objects are the same.  A member of a catalog this
-- file does not describe gives an "unhandled member" line, which the test
-- refuses.
--
-- Run with psql -XAtq (the test does): the SET keeps every name that is
-- not in pg_catalog schema-qualified.
SET search_path = pg_catalog;

WITH ext AS (
    SELECT e.* FROM pg_extension e WHERE e.extname = 'pg_assoc'
),
member AS (
    SELECT d.classid, d.objid, d.objsubid
      FROM pg_depend d JOIN ext ON d.refobjid = ext.oid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
),
-- Relations: member tables, sequences, views, and the indexes of member
-- tables (members or not).
rel AS (
    SELECT m.objid AS oid FROM member m WHERE m.classid = 'pg_class'::regclass
    UNION
    SELECT i.indexrelid FROM pg_index i
      JOIN member m ON m.classid = 'pg_class'::regclass AND i.indrelid = m.objid
),
-- Types: member types and their array types.
typ AS (
    SELECT m.objid AS oid FROM member m WHERE m.classid = 'pg_type'::regclass
    UNION
    SELECT t.typarray FROM pg_type t
      JOIN member m ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
     WHERE t.typarray <> 0
),
-- Operator families: members, and those of member operator classes.
fam AS (
    SELECT m.objid AS oid FROM member m WHERE m.classid = 'pg_opfamily'::regclass
    UNION
    SELECT c.opcfamily FROM pg_opclass c
      JOIN member m ON m.classid = 'pg_opclass'::regclass AND c.oid = m.objid
),
-- Schemas: the extension's and any member schema.
sch AS (
    SELECT ext.extnamespace AS oid FROM ext
    UNION
    SELECT m.objid FROM member m WHERE m.classid = 'pg_namespace'::regclass
),
-- The name of a relation as the lines show it.
relname AS (
    SELECT c.oid,
           CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
                          WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index'
                          WHEN 'I' THEN 'partitioned index' WHEN 'v' THEN 'view'
                          WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table'
                          WHEN 'c' THEN 'composite type' ELSE 'relation ' || c.relkind::text END
               || ': ' || c.oid::regclass::text AS obj
      FROM pg_class c JOIN rel USING (oid)
),
props(obj, prop, val) AS (
    -- The extension itself --------------------------------------------
    SELECT 'extension: ' || e.extname, v.prop, v.val
      FROM ext e, LATERAL (VALUES
        ('schema', e.extnamespace::regnamespace::text),
        ('relocatable', e.extrelocatable::text),
        ('owner', e.extowner::regrole::text),
        ('version', e.extversion)) AS v(prop, val)
    UNION ALL
    SELECT 'extension: ' || e.extname, 'config ' || c.cfg::regclass::text, c.cond
      FROM ext e, unnest(e.extconfig, e.extcondition) AS c(cfg, cond)
    UNION ALL
    SELECT 'extension: pg_assoc', 'requires', x.extname
      FROM pg_depend d JOIN ext ON d.objid = ext.oid
      JOIN pg_extension x ON x.oid = d.refobjid
     WHERE d.classid = 'pg_extension'::regclass AND d.refclassid = 'pg_extension'::regclass
    UNION ALL
    SELECT 'extension: pg_assoc', 'member', pg_describe_object(m.classid, m.objid, m.objsubid)
      FROM member m
    UNION ALL
    SELECT 'extension: pg_assoc', 'unhandled member',
           m.classid::regclass::text || ' ' || pg_describe_object(m.classid, m.objid, m.objsubid)
      FROM member m
     WHERE m.classid NOT IN ('pg_proc'::regclass, 'pg_type'::regclass, 'pg_class'::regclass,
                             'pg_operator'::regclass, 'pg_opfamily'::regclass,
                             'pg_opclass'::regclass, 'pg_cast'::regclass,
                             'pg_namespace'::regclass)
        OR m.objsubid <> 0

    -- Schemas -------------------------------------------------------------
    UNION ALL
    SELECT 'schema: ' || quote_ident(n.nspname), v.prop, v.val
      FROM pg_namespace n JOIN sch USING (oid), LATERAL (VALUES
        ('owner', n.nspowner::regrole::text),
        ('acl', n.nspacl::text),
        ('comment', obj_description(n.oid, 'pg_namespace')),
        ('default acl', (SELECT string_agg(a.defaclobjtype::text || ' ' || a.defaclacl::text, ', '
                                           ORDER BY a.defaclobjtype)
                           FROM pg_default_acl a WHERE a.defaclnamespace = n.oid))
      ) AS v(prop, val)
    -- Objects in the extension's schemas that are not members and do not
    -- hang off a member (indexes, row types, array types): an upgrade script
    -- must not leave helpers behind, nor drop objects from the extension.
    UNION ALL
    SELECT 'schema: ' || quote_ident(n.nspname), 'non-member',
           pg_describe_object(o.classid, o.oid, 0)
      FROM pg_namespace n JOIN sch USING (oid),
           LATERAL (SELECT 'pg_class'::regclass AS classid, c.oid FROM pg_class c
                     WHERE c.relnamespace = n.oid AND c.relkind NOT IN ('i', 'I')
                    UNION ALL
                    SELECT 'pg_proc'::regclass, p.oid FROM pg_proc p WHERE p.pronamespace = n.oid
                    UNION ALL
                    SELECT 'pg_type'::regclass, t.oid FROM pg_type t
                     WHERE t.typnamespace = n.oid AND t.typrelid = 0
                       AND NOT EXISTS (SELECT FROM pg_type e WHERE e.typarray = t.oid)
                    UNION ALL
                    SELECT 'pg_operator'::regclass, o.oid FROM pg_operator o WHERE o.oprnamespace = n.oid
                    UNION ALL
                    SELECT 'pg_opclass'::regclass, c.oid FROM pg_opclass c WHERE c.opcnamespace = n.oid
                    UNION ALL
                    SELECT 'pg_opfamily'::regclass, f.oid FROM pg_opfamily f WHERE f.opfnamespace = n.oid
                    UNION ALL
                    SELECT 'pg_collation'::regclass, c.oid FROM pg_collation c WHERE c.collnamespace = n.oid
                    UNION ALL
                    SELECT 'pg_statistic_ext'::regclass, s.oid FROM pg_statistic_ext s WHERE s.stxnamespace = n.oid
                   ) AS o
     WHERE NOT EXISTS (SELECT FROM member m WHERE m.classid = o.classid AND m.objid = o.oid)

    -- Functions and procedures --------------------------------------------
    UNION ALL
    SELECT 'function: ' || p.oid::regprocedure::text, v.prop, v.val
      FROM pg_proc p JOIN member m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid,
      LATERAL (VALUES
        ('kind', p.prokind::text),
        ('arguments', pg_get_function_arguments(p.oid)),
        ('result', pg_get_function_result(p.oid)),
        ('returns set', p.proretset::text),
        ('variadic', p.provariadic::regtype::text),
        ('language', (SELECT l.lanname::text FROM pg_language l WHERE l.oid = p.prolang)),
        ('source', p.prosrc),
        ('sql body', CASE WHEN p.prosqlbody IS NOT NULL
                          THEN pg_get_functiondef(p.oid) END),
        ('library', p.probin),
        ('config', p.proconfig::text),
        ('acl', p.proacl::text),
        ('owner', p.proowner::regrole::text),
        ('security definer', p.prosecdef::text),
        ('strict', p.proisstrict::text),
        ('volatility', p.provolatile::text),
        ('leakproof', p.proleakproof::text),
        ('parallel', p.proparallel::text),
        ('cost', p.procost::text),
        ('rows', p.prorows::text),
        ('support', p.prosupport::regprocedure::text),
        ('transforms', p.protrftypes::regtype[]::text),
        ('comment', obj_description(p.oid, 'pg_proc'))
      ) AS v(prop, val)
    UNION ALL
    SELECT 'function: ' || a.aggfnoid::regprocedure::text, v.prop, v.val
      FROM pg_aggregate a JOIN member m ON m.classid = 'pg_proc'::regclass AND m.objid = a.aggfnoid,
      LATERAL (VALUES
        ('aggregate kind', a.aggkind::text),
        ('aggregate direct arguments', a.aggnumdirectargs::text),
        ('aggregate transition', a.aggtransfn::regprocedure::text),
        ('aggregate final', a.aggfinalfn::regprocedure::text),
        ('aggregate combine', a.aggcombinefn::regprocedure::text),
        ('aggregate serial', a.aggserialfn::regprocedure::text),
        ('aggregate deserial', a.aggdeserialfn::regprocedure::text),
        ('aggregate moving', concat_ws(' ', a.aggmtransfn::regprocedure, a.aggminvtransfn::regprocedure,
                                       a.aggmfinalfn::regprocedure, a.aggmtranstype::regtype,
                                       a.aggminitval)),
        ('aggregate final extra', a.aggfinalextra::text),
        ('aggregate final modify', a.aggfinalmodify::text),
        ('aggregate sort operator', a.aggsortop::regoperator::text),
        ('aggregate state type', a.aggtranstype::regtype::text),
        ('aggregate state space', a.aggtransspace::text),
        ('aggregate initial value', a.agginitval)
      ) AS v(prop, val)

    -- Types and domains ---------------------------------------------------
    UNION ALL
    SELECT 'type: ' || t.oid::regtype::text, v.prop, v.val
      FROM pg_type t JOIN typ USING (oid),
      LATERAL (VALUES
        ('type', t.typtype::text),
        ('length', t.typlen::text),
        ('by value', t.typbyval::text),
        ('alignment', t.typalign::text),
        ('storage', t.typstorage::text),
        ('category', t.typcategory::text),
        ('preferred', t.typispreferred::text),
        ('delimiter', t.typdelim::text),
        ('input', t.typinput::regprocedure::text),
        ('output', t.typoutput::regprocedure::text),
        ('receive', t.typreceive::regprocedure::text),
        ('send', t.typsend::regprocedure::text),
        ('typmod input', t.typmodin::regprocedure::text),
        ('typmod output', t.typmodout::regprocedure::text),
        ('analyze', t.typanalyze::regprocedure::text),
        ('subscript', t.typsubscript::regprocedure::text),
        ('element', t.typelem::regtype::text),
        ('array', t.typarray::regtype::text),
        ('base type', t.typbasetype::regtype::text),
        ('typmod', t.typtypmod::text),
        ('dimensions', t.typndims::text),
        ('not null', t.typnotnull::text),
        ('collation', CASE WHEN t.typcollation <> 0 THEN t.typcollation::regcollation::text END),
        ('default', t.typdefault),
        ('acl', t.typacl::text),
        ('owner', t.typowner::regrole::text),
        ('comment', obj_description(t.oid, 'pg_type'))
      ) AS v(prop, val)

    -- Relations -----------------------------------------------------------
    UNION ALL
    SELECT r.obj, v.prop, v.val
      FROM pg_class c JOIN relname r USING (oid),
      LATERAL (VALUES
        ('kind', c.relkind::text),
        ('persistence', c.relpersistence::text),
        ('access method', (SELECT a.amname::text FROM pg_am a WHERE a.oid = c.relam)),
        ('tablespace', (SELECT s.spcname::text FROM pg_tablespace s WHERE s.oid = c.reltablespace)),
        ('acl', c.relacl::text),
        ('options', c.reloptions::text),
        ('row security', c.relrowsecurity::text),
        ('force row security', c.relforcerowsecurity::text),
        ('replica identity', c.relreplident::text),
        ('partition', c.relispartition::text),
        ('partition bound', pg_get_expr(c.relpartbound, c.oid)),
        ('partition key', CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END),
        ('of type', CASE WHEN c.reloftype <> 0 THEN c.reloftype::regtype::text END),
        ('inherits', (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)
                        FROM pg_inherits i WHERE i.inhrelid = c.oid)),
        ('view definition', CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END),
        ('owner', c.relowner::regrole::text),
        ('comment', obj_description(c.oid, 'pg_class'))
      ) AS v(prop, val)
    UNION ALL
    SELECT r.obj, v.prop, v.val
      FROM pg_index i JOIN relname r ON r.oid = i.indexrelid,
      LATERAL (VALUES
        ('table', i.indrelid::regclass::text),
        ('definition', pg_get_indexdef(i.indexrelid)),
        ('unique', i.indisunique::text),
        ('nulls not distinct', i.indnullsnotdistinct::text),
        ('primary', i.indisprimary::text),
        ('exclusion', i.indisexclusion::text),
        ('immediate', i.indimmediate::text),
        ('clustered', i.indisclustered::text),
        ('valid', i.indisvalid::text),
        ('ready', i.indisready::text),
        ('live', i.indislive::text),
        ('index replica identity', i.indisreplident::text),
        ('member', EXISTS (SELECT FROM member m WHERE m.classid = 'pg_class'::regclass
                                                  AND m.objid = i.indexrelid)::text)
      ) AS v(prop, val)
    UNION ALL
    SELECT r.obj, v.prop, v.val
      FROM pg_sequence s JOIN relname r ON r.oid = s.seqrelid,
      LATERAL (VALUES
        ('sequence type', s.seqtypid::regtype::text),
        ('start', s.seqstart::text),
        ('increment', s.seqincrement::text),
        ('maximum', s.seqmax::text),
        ('minimum', s.seqmin::text),
        ('cache', s.seqcache::text),
        ('cycle', s.seqcycle::text),
        ('owned by', (SELECT string_agg(pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid), ', ')
                        FROM pg_depend d
                       WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                         AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
                         AND d.deptype IN ('a', 'i')))
      ) AS v(prop, val)

    -- Columns, in order (position among the columns not dropped) -----------
    UNION ALL
    SELECT 'column: ' || a.attrelid::regclass::text || '.' || quote_ident(a.attname), v.prop, v.val
      FROM (SELECT a.*, row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS position
              FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN rel ON rel.oid = c.oid
             WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind NOT IN ('S', 'i', 'I')) a,
      LATERAL (VALUES
        ('position', a.position::text),
        ('type', format_type(a.atttypid, a.atttypmod)),
        ('not null', a.attnotnull::text),
        ('identity', a.attidentity::text),
        ('generated', a.attgenerated::text),
        ('compression', a.attcompression::text),
        ('storage', a.attstorage::text),
        ('statistics target', a.attstattarget::text),
        ('collation', CASE WHEN a.attcollation <> 0 THEN a.attcollation::regcollation::text END),
        ('default', (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
                      WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum)),
        ('acl', a.attacl::text),
        -- Options a user set (ALTER COLUMN ... SET (n_distinct = ...)); this
        -- server build also keeps a per-creation marker "pg_attver=<n>" there,
        -- which differs between any two creations of a column and is no
        -- option of the column.
        ('options', (SELECT array_agg(o ORDER BY o)::text FROM unnest(a.attoptions) AS o
                      WHERE o NOT LIKE 'pg\_attver=%')),
        ('comment', col_description(a.attrelid, a.attnum))
      ) AS v(prop, val)

    -- Constraints of tables and domains -----------------------------------
    UNION ALL
    SELECT 'constraint: ' || quote_ident(c.conname) || ' on '
               || CASE WHEN c.conrelid <> 0 THEN c.conrelid::regclass::text
                       ELSE 'domain ' || c.contypid::regtype::text END,
           v.prop, v.val
      FROM pg_constraint c,
      LATERAL (VALUES
        ('type', c.contype::text),
        ('definition', pg_get_constraintdef(c.oid)),
        ('deferrable', c.condeferrable::text),
        ('deferred', c.condeferred::text),
        ('validated', c.convalidated::text),
        ('no inherit', c.connoinherit::text),
        ('index', CASE WHEN c.conindid <> 0 THEN c.conindid::regclass::text END),
        ('comment', obj_description(c.oid, 'pg_constraint'))
      ) AS v(prop, val)
     WHERE c.conrelid IN (SELECT oid FROM rel) OR c.contypid IN (SELECT oid FROM typ)

    -- Triggers, rules, policies, extended statistics ------------------------
    UNION ALL
    SELECT 'trigger: ' || quote_ident(t.tgname) || ' on ' || t.tgrelid::regclass::text, v.prop, v.val
      FROM pg_trigger t JOIN rel ON rel.oid = t.tgrelid,
      LATERAL (VALUES
        ('definition', pg_get_triggerdef(t.oid)),
        ('enabled', t.tgenabled::text),
        ('comment', obj_description(t.oid, 'pg_trigger'))
      ) AS v(prop, val)
     WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'rule: ' || quote_ident(w.rulename) || ' on ' || w.ev_class::regclass::text, v.prop, v.val
      FROM pg_rewrite w JOIN rel ON rel.oid = w.ev_class,
      LATERAL (VALUES
        ('definition', pg_get_ruledef(w.oid)),
        ('enabled', w.ev_enabled::text),
        ('comment', obj_description(w.oid, 'pg_rewrite'))
      ) AS v(prop, val)
    UNION ALL
    SELECT 'policy: ' || quote_ident(p.polname) || ' on ' || p.polrelid::regclass::text, v.prop, v.val
      FROM pg_policy p JOIN rel ON rel.oid = p.polrelid,
      LATERAL (VALUES
        ('command', p.polcmd::text),
        ('permissive', p.polpermissive::text),
        ('roles', (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END,
                                     ', ' ORDER BY 1)
                     FROM unnest(p.polroles) AS r)),
        ('using', pg_get_expr(p.polqual, p.polrelid)),
        ('with check', pg_get_expr(p.polwithcheck, p.polrelid)),
        ('comment', obj_description(p.oid, 'pg_policy'))
      ) AS v(prop, val)
    UNION ALL
    SELECT 'statistics: ' || s.oid::regclass::text, v.prop, v.val
      FROM pg_statistic_ext s JOIN rel ON rel.oid = s.stxrelid,
      LATERAL (VALUES
        ('definition', pg_get_statisticsobjdef(s.oid)),
        ('statistics target', s.stxstattarget::text),
        ('comment', obj_description(s.oid, 'pg_statistic_ext'))
      ) AS v(prop, val)

    -- Operators -------------------------------------------------------------
    UNION ALL
    SELECT 'operator: ' || o.oid::regoperator::text, v.prop, v.val
      FROM pg_operator o JOIN member m ON m.classid = 'pg_operator'::regclass AND m.objid = o.oid,
      LATERAL (VALUES
        ('kind', o.oprkind::text),
        ('left', o.oprleft::regtype::text),
        ('right', o.oprright::regtype::text),
        ('result', o.oprresult::regtype::text),
        ('function', o.oprcode::regprocedure::text),
        ('commutator', o.oprcom::regoperator::text),
        ('negator', o.oprnegate::regoperator::text),
        ('restrict', o.oprrest::regprocedure::text),
        ('join', o.oprjoin::regprocedure::text),
        ('merges', o.oprcanmerge::text),
        ('hashes', o.oprcanhash::text),
        ('owner', o.oprowner::regrole::text),
        ('comment', obj_description(o.oid, 'pg_operator'))
      ) AS v(prop, val)

    -- Operator families, their members, operator classes ------------------
    UNION ALL
    SELECT 'operator family: ' || (pg_identify_object('pg_opfamily'::regclass, f.oid, 0)).identity,
           v.prop, v.val
      FROM pg_opfamily f JOIN fam USING (oid),
      LATERAL (VALUES
        ('access method', (SELECT a.amname::text FROM pg_am a WHERE a.oid = f.opfmethod)),
        ('member', EXISTS (SELECT FROM member m WHERE m.classid = 'pg_opfamily'::regclass
                                                  AND m.objid = f.oid)::text),
        ('owner', f.opfowner::regrole::text),
        ('comment', obj_description(f.oid, 'pg_opfamily'))
      ) AS v(prop, val)
    UNION ALL
    SELECT 'operator family: ' || (pg_identify_object('pg_opfamily'::regclass, o.amopfamily, 0)).identity,
           format('operator %s(%s,%s) %s', o.amopstrategy, o.amoplefttype::regtype,
                  o.amoprighttype::regtype, v.prop),
           v.val
      FROM pg_amop o JOIN fam ON fam.oid = o.amopfamily,
      LATERAL (VALUES
        ('operator', o.amopopr::regoperator::text),
        ('purpose', o.amoppurpose::text),
        ('sort family', CASE WHEN o.amopsortfamily <> 0 THEN
             (pg_identify_object('pg_opfamily'::regclass, o.amopsortfamily, 0)).identity END),
        ('bound to', (SELECT string_agg(pg_describe_object(d.refclassid, d.refobjid, 0)
                                        || ' (' || d.deptype::text || ')', ', ')
                        FROM pg_depend d
                       WHERE d.classid = 'pg_amop'::regclass AND d.objid = o.oid
                         AND d.refclassid IN ('pg_opclass'::regclass, 'pg_opfamily'::regclass)))
      ) AS v(prop, val)
    UNION ALL
    SELECT 'operator family: ' || (pg_identify_object('pg_opfamily'::regclass, p.amprocfamily, 0)).identity,
           format('function %s(%s,%s) %s', p.amprocnum, p.amproclefttype::regtype,
                  p.amprocrighttype::regtype, v.prop),
           v.val
      FROM pg_amproc p JOIN fam ON fam.oid = p.amprocfamily,
      LATERAL (VALUES
        ('function', p.amproc::regprocedure::text),
        ('bound to', (SELECT string_agg(pg_describe_object(d.refclassid, d.refobjid, 0)
                                        || ' (' || d.deptype::text || ')', ', ')
                        FROM pg_depend d
                       WHERE d.classid = 'pg_amproc'::regclass AND d.objid = p.oid
                         AND d.refclassid IN ('pg_opclass'::regclass, 'pg_opfamily'::regclass)))
      ) AS v(prop, val)
    UNION ALL
    SELECT 'operator class: ' || (pg_identify_object('pg_opclass'::regclass, c.oid, 0)).identity,
           v.prop, v.val
      FROM pg_opclass c JOIN member m ON m.classid = 'pg_opclass'::regclass AND m.objid = c.oid,
      LATERAL (VALUES
        ('access method', (SELECT a.amname::text FROM pg_am a WHERE a.oid = c.opcmethod)),
        ('family', (pg_identify_object('pg_opfamily'::regclass, c.opcfamily, 0)).identity),
        ('input type', c.opcintype::regtype::text),
        ('default', c.opcdefault::text),
        ('storage', c.opckeytype::regtype::text),
        ('owner', c.opcowner::regrole::text),
        ('comment', obj_description(c.oid, 'pg_opclass'))
      ) AS v(prop, val)

    -- Casts -----------------------------------------------------------------
    UNION ALL
    SELECT 'cast: ' || format('(%s AS %s)', c.castsource::regtype, c.casttarget::regtype),
           v.prop, v.val
      FROM pg_cast c JOIN member m ON m.classid = 'pg_cast'::regclass AND m.objid = c.oid,
      LATERAL (VALUES
        ('function', c.castfunc::regprocedure::text),
        ('context', c.castcontext::text),
        ('method', c.castmethod::text),
        ('comment', obj_description(c.oid, 'pg_cast'))
      ) AS v(prop, val)

    -- Initial privileges (pg_init_privs) of the extension's objects -------
    UNION ALL
    SELECT 'initial privileges: ' || pg_describe_object(i.classoid, i.objoid, i.objsubid),
           'privileges (' || i.privtype::text || ')', i.initprivs::text
      FROM pg_init_privs i
     WHERE i.privtype = 'e'
        OR EXISTS (SELECT FROM member m WHERE m.classid = i.classoid AND m.objid = i.objoid)
        OR (i.classoid = 'pg_namespace'::regclass AND i.objoid IN (SELECT oid FROM sch))
)
SELECT d.line FROM (
    SELECT p.obj || ' | ' || p.prop
           || CASE WHEN p.val IS NULL THEN ' IS NULL'
                   WHEN l.n IS NULL THEN ' = ' || p.val
                   ELSE '[' || lpad(l.n::text, 4, '0') || '] = ' || l.part END AS line
      FROM props p
      LEFT JOIN LATERAL (SELECT s.part, s.n
                           FROM regexp_split_to_table(p.val, E'\n') WITH ORDINALITY AS s(part, n)
                          WHERE strpos(p.val, E'\n') > 0) l ON true
) d
ORDER BY d.line COLLATE "C";
