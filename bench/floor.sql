-- The fair floor: the same logical work as the pipeline, as one plain DuckDB SQL script, so the
-- cost of the frameworks (GX, dbt, Airflow) shows apart from the cost of the work. bench.floor
-- runs it after the shared definitions of baseline.sql (macros parse_ts/parse_date/
-- school_year_of, the label table) against a fresh DuckDB FILE: like the pipeline it writes
-- what it computes, not only reads.
--
-- What it does that baseline.sql does not:
-- * typed parsing with rejects counted: every value a row needs is parsed to its type; a
--   value that is there but cannot be read (date, timestamp, code or label) or a required
--   value that is missing rejects the row, and each reject is counted per source, column and
--   reason in `floor_rejects` (lines the CSV reader cannot split are skipped, not counted:
--   DuckDB keeps no reject table with union_by_name, which the two export formats need);
-- * de-duplication: one row per key, the first file's copy wins (contacts, messages, events,
--   responses);
-- * the final status of every message from its de-duplicated events: highest status
--   (failed/bounced < queued < sent < delivered < read), ties by the latest event; replied;
--   the latest tip rating;
-- * the core indicators at every grain of fct_indicator (school, board, sector x SES group and
--   all groups) for school years AND months: contact_reach, contact_frequency,
--   message_delivery_rate, message_reach, tip_feedback_useful, tip_usefulness; 95 % Wilson
--   intervals for the shares, a normal interval for the mean; suppression below 10 units.
-- Left out (the pipeline does them, the floor would only grow): HMAC pseudonymisation, reject
-- rows with file/row/column, school-week calendars and message dose, survey weights,
-- complementary suppression and gap indicators, data quality expectations.

-- Header sets (canonical and Dutch export) of the columns read here, without rows.
CREATE OR REPLACE TEMP TABLE fcols_schools (school_id VARCHAR, "BRIN-vestiging" VARCHAR,
    sector VARCHAR, board_id VARCHAR, "Bestuursnummer" VARCHAR, filename VARCHAR);
CREATE OR REPLACE TEMP TABLE fcols_events (event_id VARCHAR, message_id VARCHAR,
    event_type VARCHAR, occurred_at VARCHAR, feedback VARCHAR, filename VARCHAR);

CREATE TABLE floor_rejects (source VARCHAR, column_name VARCHAR, reason VARCHAR, n BIGINT);

-- Every source: raw text -> typed columns plus `failed`, the columns that could not be read.
CREATE OR REPLACE TEMP TABLE p_schools AS
SELECT s.school_id, sec.code AS sector, s.board_id, s.filename,
       list_filter([CASE WHEN s.school_id IS NULL THEN 'school_id:missing' END,
                    CASE WHEN sec.code IS NULL THEN 'sector:unknown_code' END,
                    CASE WHEN s.board_id IS NULL THEN 'board_id:missing' END],
                   lambda x: x IS NOT NULL) AS failed
FROM (SELECT coalesce(school_id, "BRIN-vestiging") AS school_id, sector,
             coalesce(board_id, "Bestuursnummer") AS board_id, filename
      FROM (SELECT * FROM read_csv('schools/*.csv', all_varchar = true, union_by_name = true,
                                     filename = true, ignore_errors = true)
            UNION ALL BY NAME SELECT * FROM fcols_schools)) s
LEFT JOIN labels sec ON sec.col = 'sector' AND sec.label = s.sector;

CREATE OR REPLACE TEMP TABLE p_families AS
SELECT f.*, ses.code AS ses_group,
       list_filter([CASE WHEN f.family_ref IS NULL THEN 'family_ref:missing' END,
                    CASE WHEN f.school_id IS NULL THEN 'school_id:missing' END,
                    CASE WHEN f.enrolled_from IS NULL THEN 'enrolled_from:' ||
                         CASE WHEN f.enrolled_from_raw IS NULL THEN 'missing' ELSE 'bad_date' END END,
                    CASE WHEN f.enrolled_to IS NULL AND f.enrolled_to_raw IS NOT NULL
                         THEN 'enrolled_to:bad_date' END,
                    CASE WHEN ses.code IS NULL THEN 'parent_education:unknown_code' END],
                   lambda x: x IS NOT NULL) AS failed
FROM (SELECT coalesce(family_ref, "Gezinsnummer") AS family_ref,
             coalesce(school_id, "BRIN-vestiging") AS school_id,
             coalesce(enrolled_from, "Ingeschreven vanaf") AS enrolled_from_raw,
             parse_date(coalesce(enrolled_from, "Ingeschreven vanaf")) AS enrolled_from,
             nullif(trim(coalesce(enrolled_to, "Ingeschreven tot")), '') AS enrolled_to_raw,
             parse_date(coalesce(enrolled_to, "Ingeschreven tot")) AS enrolled_to,
             coalesce(parent_education, "Opleidingsniveau ouders") AS parent_education
      FROM (SELECT * FROM read_csv('families/*.csv', all_varchar = true, union_by_name = true,
                                     ignore_errors = true)
            UNION ALL BY NAME SELECT * FROM cols_families)) f
LEFT JOIN labels ses ON ses.col = 'ses' AND ses.label = f.parent_education;

CREATE OR REPLACE TEMP TABLE p_contacts AS
SELECT c.contact_id, c.school_id, c.family_ref, c.contact_at, ch.code AS channel,
       st.code AS status, c.filename,
       list_filter([CASE WHEN c.contact_id IS NULL THEN 'contact_id:missing' END,
                    CASE WHEN c.contact_at IS NULL THEN 'contact_at:' ||
                         CASE WHEN c.contact_at_raw IS NULL THEN 'missing' ELSE 'bad_timestamp' END END,
                    CASE WHEN ch.code IS NULL THEN 'channel:unknown_code' END,
                    CASE WHEN st.code IS NULL THEN 'status:unknown_code' END],
                   lambda x: x IS NOT NULL) AS failed
FROM (SELECT coalesce(contact_id, "Contactnummer") AS contact_id,
             coalesce(school_id, "BRIN-vestiging") AS school_id,
             coalesce(family_ref, "Gezinsnummer") AS family_ref,
             coalesce(contact_at, "Datum/tijd") AS contact_at_raw,
             parse_ts(coalesce(contact_at, "Datum/tijd")) AS contact_at,
             coalesce(channel, "Soort contact") AS channel, status, filename
      FROM (SELECT * FROM read_csv('contact_logs/*.csv', all_varchar = true, union_by_name = true,
                                     filename = true, ignore_errors = true)
            UNION ALL BY NAME SELECT *, NULL::VARCHAR AS filename FROM cols_contact_logs)) c
LEFT JOIN labels ch ON ch.col = 'channel' AND ch.label = c.channel
LEFT JOIN labels st ON st.col = 'status' AND st.label = c.status;

CREATE OR REPLACE TEMP TABLE p_messages AS
SELECT m.*,
       list_filter([CASE WHEN m.message_id IS NULL THEN 'message_id:missing' END,
                    CASE WHEN m.school_id IS NULL THEN 'school_id:missing' END,
                    CASE WHEN m.sent_at IS NULL THEN 'sent_at:' ||
                         CASE WHEN m.sent_at_raw IS NULL THEN 'missing' ELSE 'bad_timestamp' END END],
                   lambda x: x IS NOT NULL) AS failed
FROM (SELECT coalesce(message_id, "Berichtnummer") AS message_id,
             coalesce(school_id, "BRIN-vestiging") AS school_id,
             coalesce(family_ref, "Gezinsnummer") AS family_ref,
             coalesce(sent_at, "Verzonden op") AS sent_at_raw,
             parse_ts(coalesce(sent_at, "Verzonden op")) AS sent_at, filename
      FROM (SELECT * FROM read_csv('messages/*.csv', all_varchar = true, union_by_name = true,
                                     filename = true, ignore_errors = true)
            UNION ALL BY NAME SELECT *, NULL::VARCHAR AS filename FROM cols_messages)) m;

CREATE OR REPLACE TEMP TABLE p_events AS
SELECT e.event_id, e.message_id, lower(trim(e.event_type)) AS event_type,
       try_cast(e.occurred_at AS TIMESTAMPTZ) AS occurred_at, lower(trim(e.feedback)) AS feedback,
       CASE lower(trim(e.event_type)) WHEN 'failed' THEN 0 WHEN 'bounced' THEN 0
            WHEN 'queued' THEN 1 WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4
       END AS status_rank, e.filename,
       list_filter([CASE WHEN e.event_id IS NULL THEN 'event_id:missing' END,
                    CASE WHEN e.message_id IS NULL THEN 'message_id:missing' END,
                    CASE WHEN lower(trim(e.event_type)) NOT IN ('queued', 'sent', 'delivered',
                         'read', 'failed', 'bounced', 'clicked', 'replied', 'feedback')
                         OR e.event_type IS NULL THEN 'event_type:unknown_code' END,
                    CASE WHEN try_cast(e.occurred_at AS TIMESTAMPTZ) IS NULL THEN
                         'occurred_at:bad_timestamp' END],
                   lambda x: x IS NOT NULL) AS failed
FROM (SELECT * FROM read_json('message_events/*.jsonl', format = 'newline_delimited',
                              ignore_errors = true, filename = true,
                              columns = {event_id: 'VARCHAR', message_id: 'VARCHAR',
                                         event_type: 'VARCHAR', occurred_at: 'VARCHAR',
                                         feedback: 'VARCHAR'})
      UNION ALL BY NAME SELECT * FROM fcols_events) e;

CREATE OR REPLACE TEMP TABLE p_survey AS
SELECT r.response_id, r.school_id, r.submitted_at, sec.code AS sector, ses.code AS ses_group,
       tips.code AS q_tips_useful, r.filename,
       list_filter([CASE WHEN r.response_id IS NULL THEN 'response_id:missing' END,
                    CASE WHEN r.submitted_at IS NULL THEN 'submitted_at:bad_timestamp' END,
                    CASE WHEN sec.code IS NULL THEN 'sector:unknown_code' END,
                    CASE WHEN ses.code IS NULL THEN 'parent_education:unknown_code' END,
                    CASE WHEN r.q_tips_useful IS NOT NULL AND tips.code IS NULL
                         THEN 'q_tips_useful:unknown_code' END],
                   lambda x: x IS NOT NULL) AS failed
FROM (SELECT coalesce(response_id, "Respons-ID") AS response_id,
             coalesce(school_id, "BRIN-vestiging") AS school_id, sector,
             parse_ts(coalesce(submitted_at, "Ingevuld op")) AS submitted_at,
             coalesce(parent_education, "Hoogste opleiding ouders") AS parent_education,
             nullif(trim(coalesce(q_tips_useful, "Hielpen de tips")), '') AS q_tips_useful,
             filename
      FROM (SELECT * FROM read_csv('survey_responses/*.csv', all_varchar = true,
                                     union_by_name = true, filename = true, ignore_errors = true)
            UNION ALL BY NAME SELECT *, NULL::VARCHAR AS school_id, NULL::VARCHAR AS
                "BRIN-vestiging", NULL::VARCHAR AS filename FROM cols_survey_responses)) r
LEFT JOIN labels sec ON sec.col = 'sector' AND sec.label = r.sector
LEFT JOIN labels ses ON ses.col = 'ses' AND ses.label = r.parent_education
LEFT JOIN labels tips ON tips.col = 'tips' AND tips.label = r.q_tips_useful;

-- Rejects counted: one row per source, column and reason.
INSERT INTO floor_rejects
SELECT source, split_part(f, ':', 1), split_part(f, ':', 2), count(*)
FROM (SELECT 'schools' AS source, unnest(failed) AS f FROM p_schools
      UNION ALL SELECT 'families', unnest(failed) FROM p_families
      UNION ALL SELECT 'contact_logs', unnest(failed) FROM p_contacts
      UNION ALL SELECT 'messages', unnest(failed) FROM p_messages
      UNION ALL SELECT 'message_events', unnest(failed) FROM p_events
      UNION ALL SELECT 'survey_responses', unnest(failed) FROM p_survey)
GROUP BY ALL;
-- Typed, de-duplicated tables (written to the database file, as the pipeline writes its own).
CREATE TABLE schools AS
SELECT school_id, sector, board_id FROM p_schools WHERE len(failed) = 0
QUALIFY row_number() OVER (PARTITION BY school_id ORDER BY filename) = 1;

CREATE TABLE families AS
SELECT f.family_ref, f.school_id, s.sector, s.board_id, f.enrolled_from, f.enrolled_to,
       f.ses_group
FROM p_families f JOIN schools s USING (school_id)
WHERE len(f.failed) = 0;

CREATE TABLE contacts AS
SELECT contact_id, school_id, family_ref, contact_at, channel, status
FROM p_contacts WHERE len(failed) = 0
QUALIFY row_number() OVER (PARTITION BY contact_id ORDER BY filename) = 1;

CREATE TABLE messages AS
SELECT message_id, school_id, family_ref, sent_at FROM p_messages WHERE len(failed) = 0
QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY filename) = 1;

CREATE TABLE message_events AS
SELECT event_id, message_id, event_type, occurred_at, feedback, status_rank
FROM p_events WHERE len(failed) = 0
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY filename) = 1;

CREATE TABLE survey_responses AS
SELECT response_id, school_id, submitted_at, sector, ses_group, q_tips_useful
FROM p_survey WHERE len(failed) = 0
QUALIFY row_number() OVER (PARTITION BY response_id ORDER BY filename) = 1;

-- Final status per message, from all its events (out of order and late ones included).
CREATE TABLE message_status AS
SELECT message_id,
       arg_max(event_type, (status_rank, occurred_at, event_id))
           FILTER (WHERE status_rank IS NOT NULL) AS final_status,
       max(status_rank) AS status_rank,
       bool_or(event_type = 'replied') AS has_replied,
       arg_max(feedback, (occurred_at, event_id))
           FILTER (WHERE event_type = 'feedback' AND feedback IN ('nuttig', 'niet_nuttig'))
           AS latest_feedback
FROM message_events GROUP BY message_id;

-- Periods: every school year with activity and its months.
CREATE OR REPLACE TEMP TABLE periods AS
WITH years AS (
    SELECT DISTINCT school_year_of(contact_at) AS school_year FROM contacts
    UNION SELECT DISTINCT school_year_of(sent_at) FROM messages
), bounds AS (
    SELECT school_year,
           make_date(CAST(split_part(school_year, '-', 1) AS INTEGER), 8, 1) AS p_start,
           make_date(CAST(split_part(school_year, '-', 2) AS INTEGER), 7, 31) AS p_end
    FROM years
)
SELECT 'school_year' AS period_type, school_year AS period, school_year, p_start, p_end
FROM bounds
UNION ALL
SELECT 'month', strftime(m, '%Y-%m'), b.school_year, CAST(m AS DATE),
       CAST(m + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE)
FROM bounds b, LATERAL (SELECT unnest(generate_series(CAST(b.p_start AS TIMESTAMP),
                                                      CAST(b.p_end AS TIMESTAMP),
                                                      INTERVAL 1 MONTH)) AS m);

-- Enrolled families per period (a family at a school counts when enrolled on one day of it);
-- the latest enrolment row decides the SES group.
CREATE OR REPLACE TEMP TABLE enrolled AS
SELECT p.period_type, p.period, p.school_year, f.family_ref, f.school_id,
       any_value(f.sector) AS sector, any_value(f.board_id) AS board_id,
       arg_max(f.ses_group, f.enrolled_from) AS ses_group
FROM families f
JOIN periods p ON f.enrolled_from <= p.p_end AND (f.enrolled_to IS NULL OR f.enrolled_to >= p.p_start)
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE family_ses AS
SELECT family_ref, school_id, arg_max(ses_group, enrolled_from) AS ses_group
FROM families GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE contact_periods AS
SELECT p.period_type, p.period, c.family_ref, c.school_id,
       count(*) FILTER (WHERE c.status = 'gehouden') AS held,
       count(*) FILTER (WHERE c.status = 'gehouden'
                          AND c.channel NOT IN ('ouderavond', 'informatieavond')) AS held_individual
FROM contacts c
JOIN periods p ON CAST(c.contact_at AS DATE) BETWEEN p.p_start AND p.p_end
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE message_rows AS
SELECT p.period_type, p.period, p.school_year, s.sector, s.board_id, m.school_id, m.family_ref,
       coalesce(fs.ses_group, 'onbekend') AS ses_group,
       coalesce(st.status_rank, -1) >= 3 AS delivered, st.latest_feedback
FROM messages m
JOIN schools s USING (school_id)
JOIN periods p ON CAST(m.sent_at AS DATE) BETWEEN p.p_start AND p.p_end
LEFT JOIN family_ses fs ON fs.family_ref = m.family_ref AND fs.school_id = m.school_id
LEFT JOIN message_status st ON st.message_id = m.message_id;

-- One row per unit and indicator: x is 0/1 for a share, a count for a mean.
CREATE OR REPLACE TEMP TABLE units AS
SELECT 'contact_reach' AS indicator_code, 'share' AS kind, e.period_type, e.period,
       e.school_year, e.sector, e.board_id, e.school_id, e.ses_group,
       CAST(coalesce(c.held_individual, 0) > 0 AS DOUBLE) AS x
FROM enrolled e
LEFT JOIN contact_periods c ON c.period_type = e.period_type AND c.period = e.period
 AND c.family_ref = e.family_ref AND c.school_id = e.school_id
UNION ALL
SELECT 'contact_frequency', 'mean', e.period_type, e.period, e.school_year, e.sector,
       e.board_id, e.school_id, e.ses_group, CAST(coalesce(c.held, 0) AS DOUBLE)
FROM enrolled e
LEFT JOIN contact_periods c ON c.period_type = e.period_type AND c.period = e.period
 AND c.family_ref = e.family_ref AND c.school_id = e.school_id
UNION ALL
SELECT 'message_delivery_rate', 'share', period_type, period, school_year, sector, board_id,
       school_id, ses_group, CAST(delivered AS DOUBLE)
FROM message_rows
UNION ALL
SELECT 'message_reach', 'share', e.period_type, e.period, e.school_year, e.sector, e.board_id,
       e.school_id, e.ses_group, CAST(d.family_ref IS NOT NULL AS DOUBLE)
FROM enrolled e
LEFT JOIN (SELECT DISTINCT period_type, period, family_ref, school_id FROM message_rows
           WHERE delivered) d
  ON d.period_type = e.period_type AND d.period = e.period
 AND d.family_ref = e.family_ref AND d.school_id = e.school_id
UNION ALL
SELECT 'tip_feedback_useful', 'share', period_type, period, school_year, sector, board_id,
       school_id, ses_group, CAST(latest_feedback = 'nuttig' AS DOUBLE)
FROM message_rows WHERE latest_feedback IS NOT NULL
UNION ALL
SELECT 'tip_usefulness', 'share', 'school_year', school_year_of(r.submitted_at),
       school_year_of(r.submitted_at), r.sector, s.board_id, r.school_id, r.ses_group,
       CAST(r.q_tips_useful IN ('heel_veel', 'tamelijk_veel') AS DOUBLE)
FROM survey_responses r JOIN schools s USING (school_id)
WHERE r.q_tips_useful IS NOT NULL;

-- Every grain, 95 % intervals, suppression below 10 units.
CREATE TABLE floor_indicator AS
WITH rolled AS (
    SELECT indicator_code, any_value(kind) AS kind, period_type, period, school_year, sector,
           CASE WHEN grouping(board_id) = 1 THEN 'ALL' ELSE board_id END AS board_id,
           CASE WHEN grouping(school_id) = 1 THEN 'ALL' ELSE school_id END AS school_id,
           CASE WHEN grouping(ses_group) = 1 THEN 'ALL' ELSE ses_group END AS ses_group,
           count(*) AS n, sum(x) AS numerator, avg(x) AS mean_x, var_samp(x) AS var_x
    FROM units
    GROUP BY GROUPING SETS (
        (indicator_code, period_type, period, school_year, sector, board_id, school_id, ses_group),
        (indicator_code, period_type, period, school_year, sector, board_id, school_id),
        (indicator_code, period_type, period, school_year, sector, board_id, ses_group),
        (indicator_code, period_type, period, school_year, sector, board_id),
        (indicator_code, period_type, period, school_year, sector, ses_group),
        (indicator_code, period_type, period, school_year, sector))
), intervals AS (
    SELECT *, 1.959963984540054 AS z,
           CASE WHEN kind = 'share' THEN
               (mean_x + 1.959963984540054 ^ 2 / (2 * n)
                - 1.959963984540054 * sqrt(mean_x * (1 - mean_x) / n
                                           + 1.959963984540054 ^ 2 / (4 * n * n)))
               / (1 + 1.959963984540054 ^ 2 / n)
           ELSE greatest(0, mean_x - 1.959963984540054 * sqrt(coalesce(var_x, 0) / n)) END
               AS lo,
           CASE WHEN kind = 'share' THEN
               (mean_x + 1.959963984540054 ^ 2 / (2 * n)
                + 1.959963984540054 * sqrt(mean_x * (1 - mean_x) / n
                                           + 1.959963984540054 ^ 2 / (4 * n * n)))
               / (1 + 1.959963984540054 ^ 2 / n)
           ELSE mean_x + 1.959963984540054 * sqrt(coalesce(var_x, 0) / n) END AS hi
    FROM rolled
)
SELECT indicator_code, period_type, period, school_year, sector, board_id, school_id, ses_group,
       CASE WHEN n >= 10 THEN numerator END AS numerator, CAST(n AS DOUBLE) AS denominator,
       CASE WHEN n >= 10 THEN mean_x END AS value,
       CASE WHEN n >= 10 THEN lo END AS ci_low, CASE WHEN n >= 10 THEN hi END AS ci_high,
       n, n < 10 AS suppressed, CASE WHEN n < 10 THEN 'n_below_10' END AS suppression_reason
FROM intervals;

SELECT (SELECT count(*) FROM floor_indicator) AS indicator_rows,
       (SELECT count(*) FROM floor_indicator WHERE suppressed) AS suppressed_rows,
       (SELECT coalesce(sum(n), 0) FROM floor_rejects) AS rejects,
       (SELECT count(*) FROM messages) AS messages,
       (SELECT count(*) FROM message_events) AS message_events;
