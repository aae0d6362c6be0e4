// What the user sees when a message is blocked or a stream is stopped. Messages are fixed
// templates: they name the category and never quote or paraphrase the content that was blocked.
import type { SafetyCategory } from '../schemas/safety.ts';

export type RefusalReason = 'violation' | 'unverified';

export interface Refusal {
  readonly category: SafetyCategory;
  readonly reason: RefusalReason;
  readonly message: string;
}

export const CATEGORY_LABEL: Readonly<Record<SafetyCategory, string>> = {
  harassment: 'harassment',
  hate: 'hate speech',
  sexual: 'sexually explicit content',
  sexual_minors: 'sexual content involving minors',
  dangerous: 'dangerous or violent activities',
  self_harm: 'self-harm',
  pii: 'personal data',
  prompt_injection: 'attempts to override the assistant’s instructions',
  fraud_scams: 'fraud or scams',
  privacy: 'tracking or exposing a private person',
  cyber: 'malicious hacking or malware',
  weapons: 'weapons acquisition or manufacture',
  violent_extremism: 'violent extremism',
  misinformation: 'misinformation',
};

const VIOLATION: Readonly<Record<SafetyCategory, string>> = {
  harassment: 'I can’t help with this because it was flagged as harassment. I’m happy to help with something else.',
  hate: 'I can’t help with this because it was flagged as hate speech. I’m happy to help with something else.',
  sexual: 'I can’t help with this because it was flagged as sexually explicit content, which this workspace does not allow.',
  sexual_minors: 'I can’t help with this. Sexual content involving minors is never allowed.',
  dangerous: 'I can’t help with this because it was flagged as facilitating dangerous or violent activities.',
  self_harm:
    'It sounds like you might be going through something really hard. I can’t help with this request, but you don’t have to face this alone: if you are in danger, please contact local emergency services, or reach a crisis line such as 988 (call or text, US) or your local equivalent. Talking to someone you trust can help too.',
  pii: 'I can’t process this message because it contains personal data (such as card, account or identity numbers) that this workspace does not allow. Please remove it and try again.',
  prompt_injection:
    'I can’t follow this message because it was flagged as an attempt to override the assistant’s instructions. Please rephrase your request.',
  fraud_scams: 'I can’t help with this because it was flagged as fraud or a scam. I’m happy to help with something else.',
  privacy: 'I can’t help with this because it was flagged as tracking, exposing or surveilling a private person.',
  cyber: 'I can’t help with this because it was flagged as malicious hacking or malware. I’m happy to help with defending systems instead.',
  weapons: 'I can’t help with this because it was flagged as acquiring or making weapons illegally.',
  violent_extremism: 'I can’t help with this because it was flagged as supporting violent extremism.',
  misinformation: 'I can’t help with this because it was flagged as creating misinformation.',
};

/** The refusal for a blocked input message. */
export function refusalFor(category: SafetyCategory, reason: RefusalReason = 'violation'): Refusal {
  const message =
    reason === 'unverified'
      ? `I can’t process this message right now because the safety check for ${CATEGORY_LABEL[category]} could not be completed. Please try again in a moment.`
      : VIOLATION[category];
  return { category, reason, message };
}

/** The notice appended when an answer is stopped mid-stream (finish reason `content_filter`). */
export function outputPolicyNotice(category: SafetyCategory, reason: RefusalReason = 'violation'): string {
  return reason === 'unverified'
    ? `[Response stopped: the safety check for ${CATEGORY_LABEL[category]} could not be completed.]`
    : `[Response stopped: it was about to include ${CATEGORY_LABEL[category]}, which the content policy does not allow.]`;
}

/** Which blocked category a refusal names when several are blocked: the most serious first. */
export const REFUSAL_PRIORITY: readonly SafetyCategory[] = [
  'sexual_minors',
  'self_harm',
  'dangerous',
  'violent_extremism',
  'weapons',
  'cyber',
  'privacy',
  'fraud_scams',
  'hate',
  'harassment',
  'sexual',
  'misinformation',
  'prompt_injection',
  'pii',
];
