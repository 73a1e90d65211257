/** `drill run --tag/--exclude-tag`: which scenarios a gate runs. */
export interface TagSelection {
  /** Keep a scenario carrying any of these (all when empty). */
  tags: readonly string[];
  /** Then drop a scenario carrying any of these: exclusion wins, so `--exclude-tag negative-control` holds whatever else is asked. */
  excludeTags: readonly string[];
}

export function selectedByTags(scenarioTags: readonly string[], selection: TagSelection): boolean {
  const has = (t: string) => scenarioTags.includes(t);
  if (selection.tags.length > 0 && !selection.tags.some(has)) return false;
  return !selection.excludeTags.some(has);
}

export function describeSelection(selection: TagSelection): string {
  const parts = [
    ...(selection.tags.length ? [`--tag ${selection.tags.join(', ')}`] : []),
    ...(selection.excludeTags.length ? [`--exclude-tag ${selection.excludeTags.join(', ')}`] : []),
  ];
  return parts.join(' and ');
}
