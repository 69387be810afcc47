//! Drug supply chain: products, batches committed by Merkle root, pack status under EU FMD rules,
//! recalls and shipments.
pub mod batch_commission;
pub mod batch_recall;
pub mod pack_decommission;
pub mod pack_reactivate;
pub mod pack_settle;
pub mod product_register;
pub mod shipment_receive;
pub mod shipment_send;

pub use batch_commission::*;
pub use batch_recall::*;
pub use pack_decommission::*;
pub use pack_reactivate::*;
pub use pack_settle::*;
pub use product_register::*;
pub use shipment_receive::*;
pub use shipment_send::*;
