-- Contacts with their school, SES group and periods.
select
    c.contact_id,
    c.school_id,
    s.sector,
    s.board_id,
    coalesce(fs.ses_group, 'onbekend') as ses_group,
    c.family_ref,
    c.contact_at,
    c.contact_date,
    {{ month_key('c.contact_date') }} as month,
    {{ school_year_of('c.contact_date') }} as school_year,
    c.channel,
    c.initiated_by,
    c.topic,
    c.status,
    c.is_held,
    c.is_individual,
    c.is_scheduled
from {{ ref('stg_contact_logs') }} as c
inner join {{ ref('stg_schools') }} as s on c.school_id = s.school_id
left join {{ ref('int_family_school') }} as fs
    on c.family_ref = fs.family_ref and c.school_id = fs.school_id
