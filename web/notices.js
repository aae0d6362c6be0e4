// The chat page's notices: the error banner, the rate-limit countdown, and screen-reader
// announcements (#status); `handleError` turns an API error into the right one of them (or signs
// out on an expired token).
import { ApiError } from './api.js';
import { $, state } from './chat-state.js';
import { signOut } from './sign-in.js';
import { updateComposer } from './answer-stream.js';

export function handleError(error) {
  if (!(error instanceof ApiError)) {
    console.error(error);
    return showNotice(`Something went wrong: ${error?.message ?? error}`);
  }
  switch (error.code) {
    case 'UNAUTHENTICATED':
      return signOut('Your session has expired or the token is no longer valid. Sign in again.');
    case 'RATE_LIMITED': {
      const seconds = Math.max(1, Math.ceil(Number(error.extensions.retryAfter) || 10));
      state.rateLimitedUntil = Date.now() + seconds * 1000;
      updateComposer();
      return showRateLimit();
    }
    default:
      if (error.extensions?.category) return showNotice(`Your message was blocked by the safety policy (category: ${error.extensions.category}).`);
      return showNotice(error.message);
  }
}

let rateTimer = null;
export function showRateLimit() {
  clearInterval(rateTimer);
  const tick = () => {
    const left = Math.ceil((state.rateLimitedUntil - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(rateTimer);
      updateComposer();
      showNotice('You can send again now.', 'info');
      return;
    }
    $('#notice-text').textContent = `You are sending too fast. You can send again in ${left} s.`;
  };
  showNotice('', 'warning');
  tick();
  rateTimer = setInterval(tick, 1000);
}

export function showNotice(text, kind = 'error') {
  const notice = $('#notice');
  notice.dataset.kind = kind;
  $('#notice-text').textContent = text;
  notice.hidden = false;
}

export function hideNotice() {
  $('#notice').hidden = true;
}

export function announce(text) {
  const status = $('#status');
  status.textContent = '';
  requestAnimationFrame(() => { status.textContent = text; });
}
