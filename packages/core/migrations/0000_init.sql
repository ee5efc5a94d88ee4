CREATE TABLE `factory` (
	`id` varchar(32) NOT NULL,
	`name` varchar(200) NOT NULL,
	`manager_email` varchar(320) NOT NULL,
	`api_url` varchar(2048),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `factory_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `product` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`sku` varchar(64) NOT NULL,
	`name` varchar(200) NOT NULL,
	`price` int unsigned NOT NULL,
	`stock` int unsigned NOT NULL DEFAULT 0,
	`factory_id` varchar(32) NOT NULL,
	`restock_quantity` int unsigned NOT NULL DEFAULT 50,
	`reorder_point` int unsigned NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `product_id` PRIMARY KEY(`id`),
	CONSTRAINT `product_sku_unique` UNIQUE(`sku`),
	CONSTRAINT `product_stock_non_negative` CHECK(stock >= 0),
	CONSTRAINT `product_restock_quantity_positive` CHECK(restock_quantity > 0)
);
--> statement-breakpoint
CREATE TABLE `orders` (
	`id` char(26) NOT NULL,
	`product_id` bigint unsigned NOT NULL,
	`sku` varchar(64) NOT NULL,
	`quantity` int unsigned NOT NULL,
	`unit_price` int unsigned NOT NULL,
	`stock_after` int unsigned NOT NULL,
	`idempotency_key` varchar(255),
	`request_hash` char(64),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `orders_id` PRIMARY KEY(`id`),
	CONSTRAINT `orders_idempotency_key_unique` UNIQUE(`idempotency_key`)
);
--> statement-breakpoint
CREATE TABLE `restock_request` (
	`id` char(26) NOT NULL,
	`product_id` bigint unsigned NOT NULL,
	`sku` varchar(64) NOT NULL,
	`factory_id` varchar(32) NOT NULL,
	`quantity` int unsigned NOT NULL,
	`status` enum('pending','requested','fulfilled','failed','cancelled') NOT NULL DEFAULT 'pending',
	`attempts` int unsigned NOT NULL DEFAULT 0,
	`last_error` varchar(1000),
	`lease_until` datetime(3),
	`overdue_alerted_at` datetime(3),
	`open_product_id` bigint unsigned GENERATED ALWAYS AS ((CASE WHEN `status` IN ('pending', 'requested', 'failed') THEN `product_id` ELSE NULL END)) STORED,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`requested_at` datetime(3),
	`fulfilled_at` datetime(3),
	`failed_at` datetime(3),
	CONSTRAINT `restock_request_id` PRIMARY KEY(`id`),
	CONSTRAINT `restock_request_one_open_per_product` UNIQUE(`open_product_id`),
	CONSTRAINT `restock_request_quantity_positive` CHECK(quantity > 0)
);
--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` char(26) NOT NULL,
	`source` varchar(128) NOT NULL,
	`detail_type` varchar(128) NOT NULL,
	`detail` text NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`published_at` datetime(3),
	`attempts` int unsigned NOT NULL DEFAULT 0,
	`last_error` varchar(1000),
	CONSTRAINT `outbox_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `product` ADD CONSTRAINT `product_factory_id_factory_id_fk` FOREIGN KEY (`factory_id`) REFERENCES `factory`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `orders` ADD CONSTRAINT `orders_product_id_product_id_fk` FOREIGN KEY (`product_id`) REFERENCES `product`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `restock_request` ADD CONSTRAINT `restock_request_product_id_product_id_fk` FOREIGN KEY (`product_id`) REFERENCES `product`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `restock_request` ADD CONSTRAINT `restock_request_factory_id_factory_id_fk` FOREIGN KEY (`factory_id`) REFERENCES `factory`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `orders_product_created_idx` ON `orders` (`product_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `restock_request_status_updated_idx` ON `restock_request` (`status`,`updated_at`);--> statement-breakpoint
CREATE INDEX `outbox_unpublished_idx` ON `outbox` (`published_at`,`created_at`);