CREATE TABLE `timers` (
	`id` int AUTO_INCREMENT NOT NULL,
	`session_id` varchar(128) NOT NULL,
	`accumulated_ms` bigint NOT NULL DEFAULT 0,
	`started_at` bigint,
	`max_time` int NOT NULL,
	`status` enum('running','paused','finished') NOT NULL,
	`version` int NOT NULL DEFAULT 1,
	`created_at` bigint NOT NULL,
	`updated_at` bigint NOT NULL,
	CONSTRAINT `timers_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `timers_session_id_idx` ON `timers` (`session_id`);