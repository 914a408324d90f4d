/** kerbside/lifecycle: held credentials and their refresh policy (docs/architecture.md "One idea"). */
export {
  HeldCredential, summarize,
  type CredentialSource, type HeldCredentialOptions, type HeldCredentialStatus, type HeldCredentialState,
  type LifecycleEvent, type RefreshHow, type ErrorSummary, type GetOptions,
} from './held-credential.js';
export {
  DEFAULT_REFRESH_POLICY, resolvePolicy, refreshTime, isUsable, chooseAction, retryDelay,
  type CredentialHorizon, type RefreshPolicy, type RefreshPolicyInput, type RefreshAction,
} from './policy.js';
export { CannotRefreshUnattendedError, CredentialClosedError, SourceReturnedExpiredError } from './errors.js';
export { lifecycleEventForwarder } from './events.js';
