// Which topic an event goes to: one topic per stream category ("conversation", "generation",
// "appeal", "user"…, the stream id up to its first "-"), so every event of a stream lands in the
// same topic and, keyed by stream id, in the same partition: a conversation stays in order.
export type TopicMapping = {
  prefix: string;
  // category → topic, overriding `${prefix}${category}`; "*" catches categories not listed.
  overrides: Record<string, string>;
};

export const DEFAULT_TOPIC_PREFIX = 'parley.';

export function categoryOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash > 0 ? streamId.slice(0, dash) : 'other';
}

export function topicFor(mapping: TopicMapping, streamId: string): string {
  const category = categoryOf(streamId);
  return mapping.overrides[category] ?? mapping.overrides['*'] ?? `${mapping.prefix}${category}`;
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

// "conversation=chat.conversations,generation=chat.generations,*=chat.other"
export function parseTopicMapping(spec: string | undefined, prefix = DEFAULT_TOPIC_PREFIX): TopicMapping {
  if (prefix && !/^[A-Za-z0-9._-]*$/.test(prefix)) throw new Error(`topic prefix "${prefix}" may only use letters, digits, ".", "_" and "-"`);
  const overrides: Record<string, string> = {};
  for (const part of (spec ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [category, topic, ...rest] = part.split('=').map((p) => p.trim());
    if (!category || !topic || rest.length > 0) throw new Error(`topic mapping "${part}" must look like category=topic`);
    if (!TOPIC.test(topic)) throw new Error(`"${topic}" is not a valid Kafka topic name`);
    if (overrides[category]) throw new Error(`category "${category}" is mapped twice`);
    overrides[category] = topic;
  }
  return { prefix, overrides };
}
