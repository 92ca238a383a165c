import { AppError } from '../errors.js';

export class LeadNotFound extends AppError {
  static readonly code = 'lead_not_found';
  static override readonly title = 'Lead not found';
  constructor() {
    super(LeadNotFound.code, 404, 'No lead has that id.');
  }
}
