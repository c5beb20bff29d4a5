-- One row per school. The holiday region (noord/midden/zuid) comes from the municipality
-- via the seed municipality_region; unknown municipalities get var default_holiday_region.
with ranked as (
    select
        s.*,
        row_number() over (
            partition by trim(s.school_id)
            order by s._loaded_at, s._file_name, s._row_number
        ) as row_rank
    from {{ source('raw', 'schools') }} as s
    where s.school_id is not null
)

select
    upper(trim(r.school_id)) as school_id,
    trim(r.school_name) as school_name,
    lower(trim(r.sector)) as sector,
    trim(r.board_id) as board_id,
    coalesce(trim(r.board_name), trim(r.board_id)) as board_name,
    trim(r.municipality) as municipality,
    cast(r.schoolweging as {{ type_double() }}) as schoolweging,
    coalesce(m.region, '{{ var("default_holiday_region") }}') as holiday_region,
    r._loaded_at,
    r._load_id
from ranked as r
left join {{ ref('municipality_region') }} as m
    on lower(trim(m.municipality)) = lower(trim(r.municipality))
where r.row_rank = 1
