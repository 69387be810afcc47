//! Record class names. On chain a class is an opaque id below 16 so that nothing there names a
//! kind of health data; this table is the off-chain meaning.
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RecordClass {
    LabResult = 0,
    Imaging = 1,
    Prescription = 2,
    ClinicalNote = 3,
    DischargeSummary = 4,
    Immunization = 5,
    Genomic = 6,
    ClaimAttachment = 7,
}

impl RecordClass {
    pub const ALL: [RecordClass; 8] = [
        RecordClass::LabResult,
        RecordClass::Imaging,
        RecordClass::Prescription,
        RecordClass::ClinicalNote,
        RecordClass::DischargeSummary,
        RecordClass::Immunization,
        RecordClass::Genomic,
        RecordClass::ClaimAttachment,
    ];

    pub fn id(self) -> u8 {
        self as u8
    }

    pub fn bit(self) -> u16 {
        1 << self.id()
    }

    pub fn from_id(id: u8) -> Option<Self> {
        Self::ALL.get(usize::from(id)).copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            RecordClass::LabResult => "lab-result",
            RecordClass::Imaging => "imaging",
            RecordClass::Prescription => "prescription",
            RecordClass::ClinicalNote => "clinical-note",
            RecordClass::DischargeSummary => "discharge-summary",
            RecordClass::Immunization => "immunization",
            RecordClass::Genomic => "genomic",
            RecordClass::ClaimAttachment => "claim-attachment",
        }
    }
}

impl fmt::Display for RecordClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RecordClass {
    type Err = crate::SdkError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| crate::SdkError::InvalidInput(format!("unknown record class `{s}`")))
    }
}

/// The bitmask of a set of classes, as grants store it.
pub fn class_mask(classes: &[RecordClass]) -> u16 {
    classes.iter().fold(0, |mask, c| mask | c.bit())
}

/// The known classes in a bitmask (unknown ids are skipped).
pub fn classes_in(mask: u16) -> Vec<RecordClass> {
    RecordClass::ALL
        .into_iter()
        .filter(|c| mask & c.bit() != 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ids_and_masks_round_trip() {
        for c in RecordClass::ALL {
            assert_eq!(RecordClass::from_id(c.id()), Some(c));
            assert_eq!(c.name().parse::<RecordClass>().unwrap(), c);
        }
        assert_eq!(RecordClass::from_id(8), None);
        assert!("x-ray".parse::<RecordClass>().is_err());
        let mask = class_mask(&[RecordClass::LabResult, RecordClass::Genomic]);
        assert_eq!(mask, 0b100_0001);
        assert_eq!(
            classes_in(mask),
            vec![RecordClass::LabResult, RecordClass::Genomic]
        );
    }
}
