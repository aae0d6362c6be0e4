import { z } from 'zod';

// Limits the deciders enforce; handed to them, never read from the environment inside domain/.
export const DomainLimits = z.object({
  maxMessageChars: z.number().int().positive().default(32_000),
  maxMessagesPerConversation: z.number().int().positive().default(1_000),
  maxTitleChars: z.number().int().positive().default(200),
  maxSystemPromptChars: z.number().int().positive().default(16_000),
  maxCommentChars: z.number().int().positive().default(2_000),
});
export type DomainLimits = z.infer<typeof DomainLimits>;

export const defaultLimits: DomainLimits = DomainLimits.parse({});
