-- Baseline for the benchmarks: the core indicators straight from the inbox files with plain
-- DuckDB SQL, no loader, no dbt, no quality gate. bench.run reports every pipeline stage as a
-- ratio to the time of this script.
--
-- Paths are relative to the inbox: bench.baseline sets `file_search_path` to it (or run the
-- script from the inbox folder). The inbox mixes the canonical format (`,`, ISO dates, codes)
-- with Dutch school-system exports (generic_sis_nl, generic_survey_nl: `;`, Dutch headers and
-- labels, dd-mm-jjjj dates). One read_csv per source with union_by_name sniffs each file on its
-- own, so both kinds land in one relation (DuckDB matches names case-insensitively, so `Status`
-- and `status` share a column); the Dutch headers are coalesced onto the canonical ones and
-- labels mapped with the profiles' label lists below.
--
-- Not covered in SQL:
-- * Windows-1252 files: DuckDB reads UTF-8 and strict Latin-1 only (the `encodings` extension
--   cannot be installed offline), so bench.baseline transcodes those to UTF-8 first and counts
--   that time in the baseline (the loader does the same).
-- * .xlsx survey exports (only the small scale writes them; DuckDB's `excel` extension would
--   be needed): skipped, bench.baseline lists skipped files.
-- * Rejects, pseudonymisation, dedup across re-delivered files, disclosure control, intervals:
--   rows with unknown labels or unreadable dates simply drop out here.
--
-- Grain: school_year x sector x ses_group, with `ALL` rolled up (GROUPING SETS), like
-- marts.fct_indicator at board_id = school_id = 'ALL'. Indicators (docs/spec/INDICATORS.md):
--   contact_frequency      held contacts / enrolled families
--   contact_reach          share of enrolled families with >= 1 held individual contact
--   message_delivery_rate  messages whose final status is delivered or read / messages sent
--   tip_usefulness         (heel_veel + tamelijk_veel) / all answers to q_tips_useful

CREATE OR REPLACE MACRO school_year_of(d) AS
    CASE WHEN month(d) >= 8 THEN year(d) || '-' || (year(d) + 1)
         ELSE (year(d) - 1) || '-' || year(d) END;

CREATE OR REPLACE MACRO parse_ts(s) AS
    try_strptime(s, ['%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S', '%d-%m-%Y %H:%M',
                     '%d-%m-%Y %H:%M:%S', '%d/%m/%Y %H:%M']);

CREATE OR REPLACE MACRO parse_date(s) AS
    CAST(try_strptime(s, ['%Y-%m-%d', '%d-%m-%Y', '%d/%m/%Y']) AS DATE);

-- Export labels -> codes (ouderpeil/profiles/*.yaml); codes map onto themselves.
CREATE OR REPLACE TEMP TABLE labels (col VARCHAR, label VARCHAR, code VARCHAR);
INSERT INTO labels VALUES
    ('sector', 'po', 'po'), ('sector', 'vo', 'vo'), ('sector', 'mbo', 'mbo'),
    ('sector', 'PO', 'po'), ('sector', 'VO', 'vo'), ('sector', 'MBO', 'mbo'),
    ('sector', 'Basisonderwijs', 'po'), ('sector', 'Primair onderwijs', 'po'),
    ('sector', 'Voortgezet onderwijs', 'vo'), ('sector', 'Middelbaar beroepsonderwijs', 'mbo'),
    ('ses', 'laag', 'laag'), ('ses', 'midden', 'midden'), ('ses', 'hoog', 'hoog'),
    ('ses', 'onbekend', 'onbekend'),
    ('ses', 'Laag (max. vmbo/mbo-1)', 'laag'), ('ses', 'Laag', 'laag'),
    ('ses', 'Midden (havo/vwo/mbo 2-4)', 'midden'), ('ses', 'Midden', 'midden'),
    ('ses', 'Hoog (hbo/wo)', 'hoog'), ('ses', 'Hoog', 'hoog'), ('ses', 'Onbekend', 'onbekend'),
    ('ses', 'Lager onderwijs, vmbo of mbo-1', 'laag'), ('ses', 'Havo, vwo of mbo 2-4', 'midden'),
    ('ses', 'Hbo of wo', 'hoog'), ('ses', 'Wil ik niet zeggen', 'onbekend'),
    ('status', 'gehouden', 'gehouden'), ('status', 'niet_verschenen', 'niet_verschenen'),
    ('status', 'geannuleerd', 'geannuleerd'), ('status', 'Gehouden', 'gehouden'),
    ('status', 'Niet verschenen', 'niet_verschenen'), ('status', 'Geannuleerd', 'geannuleerd'),
    ('tips', 'heel_veel', 'heel_veel'), ('tips', 'tamelijk_veel', 'tamelijk_veel'),
    ('tips', 'niet_zo_veel', 'niet_zo_veel'), ('tips', 'weinig_niets', 'weinig_niets'),
    ('tips', 'Heel veel', 'heel_veel'), ('tips', 'Tamelijk veel', 'tamelijk_veel'),
    ('tips', 'Niet zo veel', 'niet_zo_veel'), ('tips', 'Weinig of niets', 'weinig_niets');
INSERT INTO labels
SELECT 'channel', label, code FROM (VALUES
    ('tienminutengesprek', 'tienminutengesprek'), ('Tienminutengesprek', 'tienminutengesprek'),
    ('rapportgesprek', 'rapportgesprek'), ('Rapportgesprek', 'rapportgesprek'),
    ('schooladviesgesprek', 'schooladviesgesprek'), ('Schooladviesgesprek', 'schooladviesgesprek'),
    ('intake', 'intake'), ('Intakegesprek', 'intake'),
    ('ouderavond', 'ouderavond'), ('Ouderavond', 'ouderavond'),
    ('informatieavond', 'informatieavond'), ('Informatieavond', 'informatieavond'),
    ('huisbezoek', 'huisbezoek'), ('Huisbezoek', 'huisbezoek'),
    ('telefoon', 'telefoon'), ('Telefonisch', 'telefoon'), ('email', 'email'), ('E-mail', 'email'),
    ('portaal', 'portaal'), ('Ouderportaal', 'portaal'), ('informeel', 'informeel'),
    ('Informeel', 'informeel')) AS t(label, code);

-- Both header sets of every source, without rows: `UNION ALL BY NAME` with these gives every
-- column even when all files of a source come in one format (missing columns are NULL).
CREATE OR REPLACE TEMP TABLE cols_schools (school_id VARCHAR, "BRIN-vestiging" VARCHAR,
    sector VARCHAR);
CREATE OR REPLACE TEMP TABLE cols_families (family_ref VARCHAR, "Gezinsnummer" VARCHAR,
    school_id VARCHAR, "BRIN-vestiging" VARCHAR, enrolled_from VARCHAR,
    "Ingeschreven vanaf" VARCHAR, enrolled_to VARCHAR, "Ingeschreven tot" VARCHAR,
    parent_education VARCHAR, "Opleidingsniveau ouders" VARCHAR);
CREATE OR REPLACE TEMP TABLE cols_contact_logs (contact_id VARCHAR, "Contactnummer" VARCHAR,
    school_id VARCHAR, "BRIN-vestiging" VARCHAR, family_ref VARCHAR, "Gezinsnummer" VARCHAR,
    contact_at VARCHAR, "Datum/tijd" VARCHAR, channel VARCHAR, "Soort contact" VARCHAR,
    status VARCHAR);
CREATE OR REPLACE TEMP TABLE cols_messages (message_id VARCHAR, "Berichtnummer" VARCHAR,
    school_id VARCHAR, "BRIN-vestiging" VARCHAR, family_ref VARCHAR, "Gezinsnummer" VARCHAR,
    sent_at VARCHAR, "Verzonden op" VARCHAR);
CREATE OR REPLACE TEMP TABLE cols_survey_responses (response_id VARCHAR, "Respons-ID" VARCHAR,
    sector VARCHAR, submitted_at VARCHAR, "Ingevuld op" VARCHAR, parent_education VARCHAR,
    "Hoogste opleiding ouders" VARCHAR, q_tips_useful VARCHAR, "Hielpen de tips" VARCHAR);

-- @shared-definitions-end (bench/floor.sql runs everything above this line too)

CREATE OR REPLACE TEMP TABLE schools AS
SELECT DISTINCT ON (school_id) school_id, l.code AS sector
FROM (SELECT coalesce(school_id, "BRIN-vestiging") AS school_id, sector
      FROM (SELECT * FROM read_csv('schools/*.csv', all_varchar = true, union_by_name = true,
                                     ignore_errors = true)
            UNION ALL BY NAME SELECT * FROM cols_schools)) s
JOIN labels l ON l.col = 'sector' AND l.label = s.sector
WHERE school_id IS NOT NULL;

CREATE OR REPLACE TEMP TABLE families AS
SELECT f.family_ref, f.school_id, f.enrolled_from, f.enrolled_to, l.code AS ses_group
FROM (SELECT coalesce(family_ref, "Gezinsnummer") AS family_ref,
             coalesce(school_id, "BRIN-vestiging") AS school_id,
             parse_date(coalesce(enrolled_from, "Ingeschreven vanaf")) AS enrolled_from,
             parse_date(coalesce(enrolled_to, "Ingeschreven tot")) AS enrolled_to,
             coalesce(parent_education, "Opleidingsniveau ouders") AS parent_education
      FROM (SELECT * FROM read_csv('families/*.csv', all_varchar = true, union_by_name = true,
                                     ignore_errors = true)
            UNION ALL BY NAME SELECT * FROM cols_families)) f
JOIN labels l ON l.col = 'ses' AND l.label = f.parent_education
WHERE f.family_ref IS NOT NULL AND f.enrolled_from IS NOT NULL;

-- One row per contact (an export can repeat a contact: the first copy counts).
CREATE OR REPLACE TEMP TABLE contacts AS
SELECT DISTINCT ON (c.contact_id) c.contact_id, c.school_id, c.family_ref,
       ch.code AS channel, st.code AS status, school_year_of(c.contact_at) AS school_year
FROM (SELECT coalesce(contact_id, "Contactnummer") AS contact_id,
             coalesce(school_id, "BRIN-vestiging") AS school_id,
             coalesce(family_ref, "Gezinsnummer") AS family_ref,
             parse_ts(coalesce(contact_at, "Datum/tijd")) AS contact_at,
             coalesce(channel, "Soort contact") AS channel, status
      FROM (SELECT * FROM read_csv('contact_logs/*.csv', all_varchar = true, union_by_name = true,
                                     ignore_errors = true)
            UNION ALL BY NAME SELECT * FROM cols_contact_logs)) c
JOIN labels ch ON ch.col = 'channel' AND ch.label = c.channel
JOIN labels st ON st.col = 'status' AND st.label = c.status
WHERE c.contact_id IS NOT NULL AND c.contact_at IS NOT NULL;

CREATE OR REPLACE TEMP TABLE school_years AS
SELECT DISTINCT school_year,
       make_date(CAST(split_part(school_year, '-', 1) AS INTEGER), 8, 1) AS sy_start,
       make_date(CAST(split_part(school_year, '-', 2) AS INTEGER), 7, 31) AS sy_end
FROM contacts;

-- A family counts in a school year when it was enrolled on at least one day of it. The unit
-- is the enrolment (family at a school): the indicators are per school, rolled up.
CREATE OR REPLACE TEMP TABLE enrolled AS
SELECT sy.school_year, f.family_ref, f.school_id, any_value(s.sector) AS sector,
       arg_max(f.ses_group, f.enrolled_from) AS ses_group
FROM families f
JOIN schools s USING (school_id)
JOIN school_years sy
  ON f.enrolled_from <= sy.sy_end AND (f.enrolled_to IS NULL OR f.enrolled_to >= sy.sy_start)
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE contact_family AS
SELECT e.school_year, e.sector, e.ses_group, e.family_ref, e.school_id,
       count(c.contact_id) FILTER (WHERE c.status = 'gehouden') AS held,
       count(c.contact_id) FILTER (WHERE c.status = 'gehouden'
                                     AND c.channel NOT IN ('ouderavond', 'informatieavond'))
           AS held_individual
FROM enrolled e
LEFT JOIN contacts c
  ON c.family_ref = e.family_ref AND c.school_id = e.school_id
 AND c.school_year = e.school_year
GROUP BY ALL;

-- Final status of a message: the highest-ranked delivery event (failed/bounced < queued <
-- sent < delivered < read). Repeated webhooks (at least once) do not change a maximum.
CREATE OR REPLACE TEMP TABLE message_status AS
SELECT message_id,
       max(CASE event_type WHEN 'read' THEN 4 WHEN 'delivered' THEN 3 WHEN 'sent' THEN 2
                           WHEN 'queued' THEN 1 WHEN 'failed' THEN 0 WHEN 'bounced' THEN 0
           END) AS status_rank
FROM read_json('message_events/*.jsonl', format = 'newline_delimited', ignore_errors = true,
               columns = {message_id: 'VARCHAR', event_type: 'VARCHAR'})
GROUP BY message_id;

-- One row per message (a message held back to a later file can appear twice).
CREATE OR REPLACE TEMP TABLE message_rows AS
SELECT DISTINCT ON (m.message_id)
       m.message_id, s.sector, school_year_of(m.sent_at) AS school_year,
       coalesce(f.ses_group, 'onbekend') AS ses_group,
       coalesce(ms.status_rank, -1) >= 3 AS delivered
FROM (SELECT coalesce(message_id, "Berichtnummer") AS message_id,
             coalesce(school_id, "BRIN-vestiging") AS school_id,
             coalesce(family_ref, "Gezinsnummer") AS family_ref,
             parse_ts(coalesce(sent_at, "Verzonden op")) AS sent_at
      FROM (SELECT * FROM read_csv('messages/*.csv', all_varchar = true, union_by_name = true,
                                     ignore_errors = true)
            UNION ALL BY NAME SELECT * FROM cols_messages)) m
JOIN schools s USING (school_id)
LEFT JOIN (SELECT family_ref, school_id, arg_max(ses_group, enrolled_from) AS ses_group
           FROM families GROUP BY ALL) f
  ON f.family_ref = m.family_ref AND f.school_id = m.school_id
LEFT JOIN message_status ms USING (message_id)
WHERE m.message_id IS NOT NULL AND m.sent_at IS NOT NULL;

CREATE OR REPLACE TEMP TABLE survey AS
SELECT DISTINCT ON (r.response_id) r.response_id, school_year_of(r.submitted_at) AS school_year,
       sec.code AS sector, ses.code AS ses_group, tips.code AS q_tips_useful
FROM (SELECT coalesce(response_id, "Respons-ID") AS response_id, sector,
             parse_ts(coalesce(submitted_at, "Ingevuld op")) AS submitted_at,
             coalesce(parent_education, "Hoogste opleiding ouders") AS parent_education,
             coalesce(q_tips_useful, "Hielpen de tips") AS q_tips_useful
      FROM (SELECT * FROM read_csv('survey_responses/*.csv', all_varchar = true, union_by_name = true,
                                     ignore_errors = true)
            UNION ALL BY NAME SELECT * FROM cols_survey_responses)) r
JOIN labels sec ON sec.col = 'sector' AND sec.label = r.sector
JOIN labels ses ON ses.col = 'ses' AND ses.label = r.parent_education
JOIN labels tips ON tips.col = 'tips' AND tips.label = r.q_tips_useful
WHERE r.response_id IS NOT NULL AND r.submitted_at IS NOT NULL;

-- The result: one long table like fct_indicator (without intervals and suppression).
CREATE OR REPLACE TEMP TABLE baseline_indicator AS
SELECT 'contact_frequency' AS indicator_code, school_year, sector,
       coalesce(ses_group, 'ALL') AS ses_group,
       sum(held)::DOUBLE AS numerator, count(*)::DOUBLE AS denominator,
       sum(held) / count(*) AS value
FROM contact_family
GROUP BY GROUPING SETS ((school_year, sector, ses_group), (school_year, sector))
UNION ALL
SELECT 'contact_reach', school_year, sector, coalesce(ses_group, 'ALL'),
       count(*) FILTER (WHERE held_individual > 0), count(*),
       count(*) FILTER (WHERE held_individual > 0) / count(*)
FROM contact_family
GROUP BY GROUPING SETS ((school_year, sector, ses_group), (school_year, sector))
UNION ALL
SELECT 'message_delivery_rate', school_year, sector, coalesce(ses_group, 'ALL'),
       count(*) FILTER (WHERE delivered), count(*),
       count(*) FILTER (WHERE delivered) / count(*)
FROM message_rows
GROUP BY GROUPING SETS ((school_year, sector, ses_group), (school_year, sector))
UNION ALL
SELECT 'tip_usefulness', school_year, sector, coalesce(ses_group, 'ALL'),
       count(*) FILTER (WHERE q_tips_useful IN ('heel_veel', 'tamelijk_veel')), count(*),
       count(*) FILTER (WHERE q_tips_useful IN ('heel_veel', 'tamelijk_veel')) / count(*)
FROM survey
GROUP BY GROUPING SETS ((school_year, sector, ses_group), (school_year, sector));

SELECT * FROM baseline_indicator ORDER BY indicator_code, school_year, sector, ses_group;
