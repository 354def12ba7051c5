-- Holders' tokens on PKCS#11 (issue 16 item 5): the key pair is generated on a token of the order's own and never
-- leaves it. The row names the token (token_label), keeps its security officer PIN sealed (the RA's unblock code)
-- and the time a process set out to initialise it; the public key is null while the row is pending, and the sealed
-- private key of the former software mock becomes nullable (nothing writes it any more).
ALTER TABLE "tokens" ALTER COLUMN "public_key_spki" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "tokens" ALTER COLUMN "encrypted_private_key" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "token_label" text;--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "token_init_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "encrypted_so_pin" text;--> statement-breakpoint
ALTER TABLE "tokens" ADD CONSTRAINT "tokens_token_label_unique" UNIQUE("token_label");