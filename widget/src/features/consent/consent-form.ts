import { html, type TemplateResult } from 'lit';
import type { TenantConfig } from '../../entities/tenant-config/tenant-config.js';
import type { Strings } from '../../shared/i18n/strings.js';

/**
 * The consent step: a real form. Required purposes are shown checked and cannot be
 * unticked; optional ones start unchecked. One primary button submits.
 */
export const consentForm = (config: TenantConfig, t: Strings, onSubmit: (e: SubmitEvent) => void): TemplateResult => html`
  <form part="consent" class="consent" @submit=${onSubmit}>
    <fieldset>
      <legend>${t.consentLegend}</legend>
      <p>${config.consent.text}</p>
      ${config.consent.purposes.map(
        (p) => html`<label
          ><input type="checkbox" name=${p.id} ?checked=${p.required} ?disabled=${p.required} />
          ${p.label} <small>(${p.required ? t.required : t.optional})</small></label
        >`,
      )}
      <p>
        <a href=${config.consent.privacyPolicyUrl} target="_blank" rel="noopener"
          >${t.policy}<span class="sr-only"> ${t.policyNewTab}</span></a
        >
      </p>
    </fieldset>
    <button class="primary" part="button">${t.agree}</button>
  </form>
`;
