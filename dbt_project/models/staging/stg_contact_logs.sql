-- One row per contact (first loaded row per contact_id wins), with the flags the contact
-- indicators need.
with ranked as (
    select
        c.*,
        row_number() over (
            partition by c.contact_id
            order by c._loaded_at, c._file_name, c._row_number
        ) as row_rank
    from {{ source('raw', 'contact_logs') }} as c
    where c.contact_id is not null
)

select
    contact_id,
    upper(trim(school_id)) as school_id,
    family_ref,
    student_ref,
    staff_ref,
    cast(contact_at as timestamp) as contact_at,
    cast(contact_at as date) as contact_date,
    lower(trim(channel)) as channel,
    lower(trim(initiated_by)) as initiated_by,
    lower(trim(topic)) as topic,
    lower(trim(status)) as status,
    duration_min,
    coalesce(interpreter, false) as interpreter,
    lower(trim(status)) = 'gehouden' as is_held,
    -- Collective evenings are not about the family's own child.
    lower(trim(channel)) not in ('ouderavond', 'informatieavond') as is_individual,
    -- Unscheduled channels have no appointment to miss.
    lower(trim(channel)) not in ('email', 'portaal', 'informeel') as is_scheduled,
    _loaded_at,
    _load_id
from ranked
where row_rank = 1
