import { AppError } from '../errors.js';

// Refusals of the GDPR admin API, each with its own code. None names the
// email it was given: problem bodies are logged by clients and proxies.

/** The `:email` path segment or `email` query is not an email address. */
export class SubjectEmailInvalid extends AppError {
  static readonly code = 'subject_email_invalid';
  static override readonly title = 'Subject email invalid';
  constructor() {
    super(SubjectEmailInvalid.code, 400, 'The subject must be an email address (3–320 characters, one "@").');
  }
}

/** Retention values that are each in range but break a rule between them. */
export class RetentionConflict extends AppError {
  static readonly code = 'retention_conflict';
  static override readonly title = 'Retention periods conflict';
  constructor(rule: 'raw_after_bookings' | 'consent_before_bookings') {
    super(RetentionConflict.code,
      422,
      rule === 'raw_after_bookings'
        ? 'Raw deliveries may not be kept longer than the bookings built from them (rawDeliveryDays ≤ bookingDays).'
        : 'Consent receipts must be kept at least as long as the bookings they justify (consentReceiptDays ≥ bookingDays).',
      { extra: { rule } },
    );
  }
}

/** Raw deliveries must outlive the webhook replay window, or a replayed old delivery would not be recognised. */
export class RetentionBelowReplayWindow extends AppError {
  static readonly code = 'retention_below_replay_window';
  static override readonly title = 'Retention shorter than the replay window';
  constructor(minDays: number) {
    super(RetentionBelowReplayWindow.code, 422, `rawDeliveryDays must be at least ${minDays}: the webhook replay window.`, { extra: { minDays } });
  }
}

/** `format` or `Accept` asks for something the export is not available as. */
export class ExportFormatNotAcceptable extends AppError {
  static readonly code = 'export_format_not_acceptable';
  static override readonly title = 'Export format not acceptable';
  constructor() {
    super(ExportFormatNotAcceptable.code, 406, 'The export is available as application/json or application/zip.');
  }
}
