// parley_append_many: appends to many streams in one round trip and one transaction (the calling
// statement's), each stream with its own expected revision. It is parley_append done per stream:
// - idempotent by event id, per stream: a stream whose events are all stored already answers with
//   the stored copy (duplicate), one with some stored and some not is an error (PA002);
// - a stream whose expected revision does not hold raises PA001 (detail: {"index", "actual"}),
//   which rolls back every stream of the call: all or nothing;
// - streams are locked first, by advisory locks in hash order (STREAM_LOCK_NOTE in migrations.ts),
//   then their rows in stream-id order, so two calls over overlapping streams cannot deadlock;
// - all events get the call's transaction id (xid fence) and positions in argument order.
// Events are passed as parallel arrays with `p_stream_of`, the 1-based index of each event's stream
// in `p_streams`; a stream's events keep their order. No NOTIFY in here (see parley_append).
// The first key of the append functions' advisory locks (the second is hashtext of the stream id):
// keeps them apart from other advisory locks, which use the one-key form.
export const STREAM_LOCK_CLASS = 0x5041;

export const APPEND_MANY_FUNCTION = `
create or replace function parley_append_many(
  p_streams text[], p_expected text[], p_stream_of int[],
  p_ids uuid[], p_types text[], p_versions int[], p_data jsonb[], p_meta jsonb[])
returns table (o_stream int, o_revision bigint, o_xid xid8, o_position bigint, o_duplicate boolean)
language plpgsql as $fn$
declare
  s int := coalesce(cardinality(p_streams), 0);
  v_n int[];       -- events per stream
  v_stored int[];  -- of those, already stored (by event id)
  v_last uuid[];   -- each stream's last event id
  v_new bigint[] := array_fill(null::bigint, array[s]);    -- new last revision of each written stream
  v_dup boolean[] := array_fill(false, array[s]);
  v_pos bigint[];
  v_xid xid8;
  k int;
  v_rev bigint;
  v_actual bigint;
  v_lock int;
begin
  if s = 0 or cardinality(p_expected) <> s or cardinality(p_stream_of) <> cardinality(p_ids)
     or (select count(distinct x) from unnest(p_streams) x) <> s then
    raise exception 'parley_append_many: malformed arguments' using errcode = 'PA003';
  end if;

  for v_lock in select distinct hashtext(x) from unnest(p_streams) x order by 1 loop
    perform pg_advisory_xact_lock(${STREAM_LOCK_CLASS}, v_lock);
  end loop;

  -- One look at the event id index for the whole call.
  select array_agg(c.n order by c.k), array_agg(c.stored order by c.k), array_agg(c.last_id order by c.k)
    into v_n, v_stored, v_last
    from (select t.k, count(*)::int as n, count(e.event_id)::int as stored, (array_agg(t.id order by t.ord desc))[1] as last_id
            from unnest(p_stream_of, p_ids) with ordinality as t(k, id, ord)
            left join parley_events e on e.event_id = t.id
           group by t.k) c;
  if coalesce(cardinality(v_n), 0) <> s or (select min(x) from unnest(p_stream_of) x) <> 1 or (select max(x) from unnest(p_stream_of) x) <> s then
    raise exception 'parley_append_many: every stream needs at least one event' using errcode = 'PA003';
  end if;

  for k in select t.ord::int from unnest(p_streams) with ordinality as t(id, ord) order by t.id loop
    if v_stored[k] = v_n[k] then
      v_dup[k] := true;
      continue;
    elsif v_stored[k] > 0 then
      raise exception 'stream %: some of these events are already stored, others are not', p_streams[k] using errcode = 'PA002';
    end if;

    v_rev := null;
    if p_expected[k] = 'any' then
      insert into parley_streams as st (stream_id, revision) values (p_streams[k], v_n[k] - 1)
        on conflict (stream_id) do update set revision = st.revision + v_n[k]
        returning revision into v_rev;
    elsif p_expected[k] = 'no_stream' then
      insert into parley_streams (stream_id, revision) values (p_streams[k], v_n[k] - 1)
        on conflict do nothing returning revision into v_rev;
    elsif p_expected[k] = 'stream_exists' then
      update parley_streams set revision = revision + v_n[k] where stream_id = p_streams[k] returning revision into v_rev;
    else
      update parley_streams set revision = revision + v_n[k]
        where stream_id = p_streams[k] and revision = p_expected[k]::bigint returning revision into v_rev;
    end if;

    if v_rev is null then
      -- The same events may have been committed by an identical call we just waited for (each
      -- statement here sees what committed before it started): then this stream is a duplicate.
      if (select count(*) from parley_events
           where event_id = any(array(select t.id from unnest(p_stream_of, p_ids) as t(kk, id) where t.kk = k))) = v_n[k] then
        v_dup[k] := true;
        continue;
      end if;
      select revision into v_actual from parley_streams where stream_id = p_streams[k];
      raise exception 'stream %: expected revision %, actual %', p_streams[k], p_expected[k], coalesce(v_actual::text, 'no stream')
        using errcode = 'PA001', detail = json_build_object('index', k, 'actual', v_actual)::text;
    end if;
    v_new[k] := v_rev;
  end loop;

  if false = any(v_dup) then
    with ins as (
      insert into parley_events (stream_id, stream_revision, event_id, type, version, data, metadata)
      select p_streams[t.k], v_new[t.k] - v_n[t.k] + row_number() over (partition by t.k order by t.ord), t.id, t.ty, t.ve, t.da, t.me
        from unnest(p_stream_of, p_ids, p_types, p_versions, p_data, p_meta) with ordinality as t(k, id, ty, ve, da, me, ord)
       where not v_dup[t.k]
       order by t.ord
      returning stream_id, position
    ), m as (select i.stream_id, max(i.position) as pos from ins i group by i.stream_id)
    select array_agg(m.pos order by t.k) into v_pos
      from (select u.id, u.ord::int as k from unnest(p_streams) with ordinality as u(id, ord)) t left join m on m.stream_id = t.id;
    v_xid := pg_current_xact_id();
  end if;

  return query
    select t.k,
           case when v_dup[t.k] then e.stream_revision else v_new[t.k] end,
           case when v_dup[t.k] then e.transaction_id else v_xid end,
           case when v_dup[t.k] then e.position else v_pos[t.k] end,
           v_dup[t.k]
      from (select u.ord::int as k from unnest(p_streams) with ordinality as u(id, ord)) t
      left join parley_events e on v_dup[t.k] and e.event_id = v_last[t.k]
     order by t.k;
end
$fn$;
`;
