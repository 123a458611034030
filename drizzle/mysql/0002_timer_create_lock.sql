CREATE TABLE `timer_create_lock` (
	`name` varchar(32) NOT NULL,
	CONSTRAINT `timer_create_lock_name` PRIMARY KEY(`name`)
);
--> statement-breakpoint
INSERT INTO `timer_create_lock` (`name`) VALUES ('timers');