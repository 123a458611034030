CREATE TABLE `idempotency_keys` (
	`scope` varchar(96) NOT NULL,
	`idem_key` varchar(128) NOT NULL,
	`request_hash` varchar(64) NOT NULL,
	`status` smallint NOT NULL,
	`body` text NOT NULL,
	`created_at` bigint NOT NULL,
	CONSTRAINT `idempotency_keys_scope_idem_key_pk` PRIMARY KEY(`scope`,`idem_key`)
);
--> statement-breakpoint
CREATE TABLE `timer_outbox` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`event_id` varchar(36) NOT NULL,
	`timer_id` int NOT NULL,
	`version` int NOT NULL,
	`type` varchar(32) NOT NULL,
	`payload` text NOT NULL,
	`instance` varchar(64) NOT NULL,
	`created_at` bigint NOT NULL,
	CONSTRAINT `timer_outbox_id` PRIMARY KEY(`id`),
	CONSTRAINT `timer_outbox_event_id_idx` UNIQUE(`event_id`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_keys_created_idx` ON `idempotency_keys` (`created_at`);