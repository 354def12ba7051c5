-- The CA private keys leave Postgres for the PKCS#11 token (issue 16): the sealed key column is dropped, each CA
-- names its key on the token by label, and each CA's delegated OCSP responder certificate is stored. A CA created
-- before this migration keeps its certificate but no key (key_label null): it cannot sign (see the README).
CREATE TABLE "ocsp_responders" (
	"ca_id" text PRIMARY KEY NOT NULL,
	"key_label" text NOT NULL,
	"certificate_pem" text NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ocsp_responders" ADD CONSTRAINT "ocsp_responders_ca_id_certificate_authorities_id_fk" FOREIGN KEY ("ca_id") REFERENCES "public"."certificate_authorities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certificate_authorities" DROP COLUMN "encrypted_private_key";--> statement-breakpoint
ALTER TABLE "certificate_authorities" ADD COLUMN "key_label" text;
