//! Creating the tables, as `passwordless-admin create-tables` does locally.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

use super::item::{BY_USER, PK, SK, TTL, USER_ID};
use super::{build_error, sdk_error, DynamoStore};
use crate::ports::StoreError;

impl DynamoStore {
    /// Creates both tables (on demand), each with the sparse `byUser` index and TTL on `ttl`
    /// (as template.yaml has them: the Codes table's items and the Directory's login records
    /// expire). Tables that exist already are left as
    /// they are, so this can run at every `make dev`.
    pub async fn create_tables(&self) -> Result<(), StoreError> {
        for table in [&self.tables.directory, &self.tables.codes] {
            let created = self
                .client
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(PK)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(build_error("create_table"))?,
                )
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(SK)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(build_error("create_table"))?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(PK)
                        .key_type(KeyType::Hash)
                        .build()
                        .map_err(build_error("create_table"))?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(SK)
                        .key_type(KeyType::Range)
                        .build()
                        .map_err(build_error("create_table"))?,
                )
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(USER_ID)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(build_error("create_table"))?,
                )
                .global_secondary_indexes(by_user_index()?)
                .send()
                .await;
            match created {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_in_use_exception()) => {}
                Err(e) => return Err(sdk_error("create_table", e)),
            }
        }
        for table in [&self.tables.directory, &self.tables.codes] {
            self.enable_ttl(table).await?;
        }
        Ok(())
    }

    /// Turns on DynamoDB's deletion of the table's items after their `ttl` (epoch seconds).
    async fn enable_ttl(&self, table: &str) -> Result<(), StoreError> {
        self.client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL)
                    .enabled(true)
                    .build()
                    .map_err(build_error("update_time_to_live"))?,
            )
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                // Enabling TTL twice is refused; the table already has it.
                let message = format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e));
                if message.contains("already enabled") {
                    Ok(())
                } else {
                    Err(sdk_error("update_time_to_live", e))
                }
            })
    }
}

/// The sparse index of the items that belong to a user (those with `userId`), keys only: what a
/// hard delete queries to find them.
fn by_user_index() -> Result<GlobalSecondaryIndex, StoreError> {
    GlobalSecondaryIndex::builder()
        .index_name(BY_USER)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(USER_ID)
                .key_type(KeyType::Hash)
                .build()
                .map_err(build_error("create_table"))?,
        )
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::KeysOnly)
                .build(),
        )
        .build()
        .map_err(build_error("create_table"))
}
