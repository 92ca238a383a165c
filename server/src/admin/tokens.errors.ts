import { AppError } from '../errors.js';

export class TokenNotFound extends AppError {
  static readonly code = 'token_not_found';
  static override readonly title = 'Token not found';
  constructor() {
    super(TokenNotFound.code, 404, 'No token has that id.');
  }
}
