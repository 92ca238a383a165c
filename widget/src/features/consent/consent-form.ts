import { html, type TemplateResult } from 'lit';
import type { TenantConfig } from '../../entities/tenant-config/tenant-config.js';
import type { Strings } from '../../shared/i18n/strings.js';

// In widget.js: inline and native show this step before the visitor does anything, and what a
// page fetches before the first interaction must stay within 10 KiB gzip (decision 0026).

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

/** The purposes chosen in the consent form: required ones always, optional ones when checked. */
export const formPurposes = (config: TenantConfig, form: HTMLFormElement): string[] =>
  config.consent.purposes
    .filter((p) => p.required || (form.elements.namedItem(p.id) as HTMLInputElement | null)?.checked)
    .map((p) => p.id);
