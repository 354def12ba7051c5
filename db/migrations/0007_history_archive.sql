CREATE TABLE "history_archive" (
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"workflow_type" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp (3) with time zone,
	"closed_at" timestamp (3) with time zone NOT NULL,
	"event_count" integer NOT NULL,
	"history_gzip" text NOT NULL,
	"sha256" text NOT NULL,
	"audit_seq" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "history_archive_workflow_id_run_id_pk" PRIMARY KEY("workflow_id","run_id")
);
--> statement-breakpoint
CREATE INDEX "history_archive_closed_idx" ON "history_archive" USING btree ("closed_at");