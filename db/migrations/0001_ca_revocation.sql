CREATE TABLE "crls" (
	"ca_id" text NOT NULL,
	"crl_number" integer NOT NULL,
	"this_update" timestamp with time zone NOT NULL,
	"next_update" timestamp with time zone NOT NULL,
	"der" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "crls_ca_id_crl_number_pk" PRIMARY KEY("ca_id","crl_number")
);
--> statement-breakpoint
ALTER TABLE "organisations" ADD COLUMN "locality" text;--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "pin_reset_key" text;--> statement-breakpoint
CREATE INDEX "certificates_public_key_spki_idx" ON "certificates" USING hash ("public_key_spki");--> statement-breakpoint
CREATE INDEX "certificates_revoked_idx" ON "certificates" USING btree ("issuing_ca","not_after") WHERE "certificates"."status" in ('revoked', 'held');