// Splits one scheduled step into model calls. A call is a [rows, S] batch, every row padded to its
// longest chunk, so one 256-token prefill chunk beside 31 decoding rows would make the model compute
// 32 × 256 positions for 287 useful ones. Decoding rows (one token each) go in one call; prefill
// chunks are grouped by length while padding stays under `maxPadding` of the useful tokens.
export function groupRows<R extends { numNew: number }>(rows: readonly R[], maxPadding = 0.25): R[][] {
  const decode = rows.filter((r) => r.numNew === 1);
  const prefill = rows.filter((r) => r.numNew > 1).sort((a, b) => b.numNew - a.numNew);
  const groups: R[][] = decode.length > 0 ? [decode] : [];
  let group: R[] = [];
  let useful = 0;
  for (const row of prefill) {
    // Longest first, so the group's length is its first row's.
    const longest = group[0]?.numNew ?? row.numNew;
    if (group.length > 0 && longest * (group.length + 1) > (1 + maxPadding) * (useful + row.numNew)) {
      groups.push(group);
      group = [];
      useful = 0;
    }
    group.push(row);
    useful += row.numNew;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
