CREATE TABLE `log_epochs` (
	`topic` text PRIMARY KEY NOT NULL,
	`epoch` text NOT NULL,
	`start` text NOT NULL,
	`trimmed` text
);
--> statement-breakpoint
CREATE TABLE `topic_log` (
	`id` integer PRIMARY KEY NOT NULL,
	`topic` text NOT NULL,
	`seq` text NOT NULL,
	`ms` integer NOT NULL,
	`n` integer NOT NULL,
	`ts` integer NOT NULL,
	`body` text NOT NULL,
	`event_id` text,
	`epoch` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `topic_log_event_id_idx` ON `topic_log` (`event_id`) WHERE "topic_log"."event_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `topic_log_topic_seq_idx` ON `topic_log` (`topic`,`ms`,`n`);