CREATE TABLE "acme_accounts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"jwk_thumbprint" text NOT NULL,
	"jwk" jsonb NOT NULL,
	"status" text DEFAULT 'valid' NOT NULL,
	"contact" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"eab_kid" text NOT NULL,
	"organisation_id" uuid NOT NULL,
	"product" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "acme_accounts_jwk_thumbprint_unique" UNIQUE("jwk_thumbprint")
);
--> statement-breakpoint
CREATE TABLE "acme_eab_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"organisation_id" uuid NOT NULL,
	"product" text NOT NULL,
	"sealed_hmac_key" text NOT NULL,
	"created_by_user_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "acme_nonces" (
	"nonce" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "acme_accounts" ADD CONSTRAINT "acme_accounts_eab_kid_acme_eab_keys_kid_fk" FOREIGN KEY ("eab_kid") REFERENCES "public"."acme_eab_keys"("kid") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "acme_accounts" ADD CONSTRAINT "acme_accounts_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "acme_eab_keys" ADD CONSTRAINT "acme_eab_keys_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "acme_eab_keys" ADD CONSTRAINT "acme_eab_keys_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "acme_accounts_eab_idx" ON "acme_accounts" USING btree ("eab_kid");--> statement-breakpoint
CREATE INDEX "acme_eab_keys_organisation_idx" ON "acme_eab_keys" USING btree ("organisation_id");--> statement-breakpoint
CREATE INDEX "acme_nonces_expires_idx" ON "acme_nonces" USING btree ("expires_at");