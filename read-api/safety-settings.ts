import { z } from 'zod';
import { floorViolations } from '../safety/index.ts';
import { BlockThreshold, SafetyCategory, type SafetySettings, type TenantPolicies } from '../schemas/safety.ts';

// A request's safety settings (GraphQL `safetySettings`, the OpenAI extension `safety_settings`):
// category → threshold as a map, or Gemini's list of {category, threshold} (Gemini's HARM_CATEGORY_*
// names are understood too). Checked against the caller's tenant's floors and the platform's: asking
// for less than a floor is refused naming the category, never silently raised.

const GEMINI_NAMES: Record<string, SafetyCategory> = {
  HARM_CATEGORY_HARASSMENT: 'harassment',
  HARM_CATEGORY_HATE_SPEECH: 'hate',
  HARM_CATEGORY_SEXUALLY_EXPLICIT: 'sexual',
  HARM_CATEGORY_DANGEROUS_CONTENT: 'dangerous',
};
const Category = z.string().transform((s, ctx) => {
  const c = GEMINI_NAMES[s] ?? s;
  const parsed = SafetyCategory.safeParse(c);
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: `unknown safety category "${s.slice(0, 64)}" (known: ${SafetyCategory.options.join(', ')})` });
    return z.NEVER;
  }
  return parsed.data;
});
const Threshold = z.string().refine((s) => BlockThreshold.safeParse(s).success, { message: `threshold must be one of ${BlockThreshold.options.join(', ')}` })
  .transform((s) => s as BlockThreshold);
const AsList = z.array(z.object({ category: Category, threshold: Threshold })).max(SafetyCategory.options.length * 2);
const AsMap = z.record(z.string(), Threshold);

export type SettingsProblem = { message: string; field: string; category?: SafetyCategory; reason: 'INVALID' | 'BELOW_SAFETY_FLOOR' };

export function parseSafetySettings(
  input: unknown, tenantId: string, policies: TenantPolicies | undefined, field: string,
): { ok: true; settings: SafetySettings } | { ok: false; problem: SettingsProblem } {
  if (input === null || input === undefined) return { ok: true, settings: {} };
  const settings: SafetySettings = {};
  if (Array.isArray(input)) {
    const list = AsList.safeParse(input);
    if (!list.success) return invalid(field, list.error);
    for (const { category, threshold } of list.data) settings[category] = threshold;
  } else {
    const map = AsMap.safeParse(input);
    if (!map.success) return invalid(field, map.error);
    for (const [name, threshold] of Object.entries(map.data)) {
      const category = Category.safeParse(name);
      if (!category.success) return invalid(`${field}.${name.slice(0, 64)}`, category.error);
      settings[category.data] = threshold;
    }
  }
  const below = floorViolations(settings, policies?.[tenantId]);
  if (below.length > 0) {
    const { category, floor } = below[0]!;
    return {
      ok: false,
      problem: {
        message: `safety setting for "${category}" cannot be lowered below ${floor} (a floor of the platform or of tenant "${tenantId}")`,
        field: `${field}.${category}`, category, reason: 'BELOW_SAFETY_FLOOR',
      },
    };
  }
  return { ok: true, settings };
}

function invalid(field: string, error: z.ZodError): { ok: false; problem: SettingsProblem } {
  const issue = error.issues[0]!;
  const at = [field, ...issue.path.map(String)].join('.');
  return { ok: false, problem: { message: `${at}: ${issue.message}`, field: at, reason: 'INVALID' } };
}
