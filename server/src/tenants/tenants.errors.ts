import { AppError } from '../errors.js';

export class TenantNotFound extends AppError {
  static readonly code = 'tenant_not_found';
  static override readonly title = 'Tenant not found';
  constructor() {
    super(TenantNotFound.code, 404, 'No tenant has that slug.');
  }
}

export class TenantExists extends AppError {
  static readonly code = 'tenant_exists';
  static override readonly title = 'Tenant exists';
  constructor() {
    super(TenantExists.code, 409, 'A tenant with that slug already exists.');
  }
}
