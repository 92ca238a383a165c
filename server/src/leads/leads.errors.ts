import { AppError } from '../errors.js';

export class LeadNotFound extends AppError {
  constructor() {
    super('lead_not_found', 404, 'No lead has that id.');
  }
}
