import { AppError } from '../errors.js';

/**
 * The consent wording changed but kept a version that already names other wording. A
 * receipt records the version and the text's hash, so one version must mean one text.
 */
export class ConsentVersionUnchanged extends AppError {
  static readonly code = 'consent_version_unchanged';
  static override readonly title = 'Consent version unchanged';
  constructor() {
    super(ConsentVersionUnchanged.code, 409, 'The consent text or purposes changed: give them a new consent version.');
  }
}
