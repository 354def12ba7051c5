CREATE TABLE "renewal_advices" (
	"id" uuid PRIMARY KEY NOT NULL,
	"serials" text[],
	"product" text,
	"issued_before" timestamp with time zone,
	"renew_by" timestamp with time zone NOT NULL,
	"explanation_url" text,
	"reason" text NOT NULL,
	"created_by_user_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "renewal_advices" ADD CONSTRAINT "renewal_advices_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "renewal_advices_renew_by_idx" ON "renewal_advices" USING btree ("renew_by");