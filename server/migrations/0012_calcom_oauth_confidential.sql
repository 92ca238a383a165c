-- Cal.com OAuth as a confidential client (issue 11, decision 0013): Cal.com's token endpoint
-- refuses a confidential exchange that carries a PKCE `code_verifier`
-- (apps/api/v2/src/modules/auth/oauth2/inputs/exchange.input.ts), and a code issued with a
-- challenge cannot be exchanged without one (packages/features/oauth/services/OAuthService.ts).
-- New states therefore store no verifier; rows written before this migration keep theirs until
-- they expire (ten minutes) and are simply not used.
ALTER TABLE calcom_oauth_states ALTER COLUMN code_verifier_sealed DROP NOT NULL;
