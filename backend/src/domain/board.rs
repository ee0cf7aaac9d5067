//! How a board is named in a Party document's header (Hướng dẫn 36-HD/VPTW): the same on the
//! consolidated workbook and on the official report, at every level from a commune to the
//! central board.

/// A board as its documents name it: its Party committee ("Huyện ủy"), the place ("Quỳnh
/// Phụ"), the board's abbreviation in a document number ("BTGHU") and where it dates its
/// documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    pub committee: &'static str,
    pub place: String,
    pub abbreviation: &'static str,
    /// Where the document is dated: the place, or Hà Nội for the central board.
    pub seat: String,
}

impl Board {
    /// The board of the unit of `kind` named `name`.
    pub fn of(kind: &str, name: &str) -> Board {
        if kind == "nation" {
            return Board {
                committee: "Ban Chấp hành",
                place: "Trung ương".into(),
                abbreviation: "BTGTW",
                seat: "Hà Nội".into(),
            };
        }
        let prefixes: &[(&str, &str, &str)] = &[
            ("Tỉnh ", "Tỉnh ủy", "BTGTU"),
            ("Thành phố ", "Thành ủy", "BTGThU"),
            ("Thị xã ", "Thị ủy", "BTGTXU"),
            ("Quận ", "Quận ủy", "BTGQU"),
            ("Huyện ", "Huyện ủy", "BTGHU"),
        ];
        for (prefix, committee, abbreviation) in prefixes {
            if let Some(place) = name.strip_prefix(prefix) {
                return Board {
                    committee,
                    place: place.to_owned(),
                    abbreviation,
                    seat: place.to_owned(),
                };
            }
        }
        let (committee, abbreviation) = match kind {
            "province" => ("Tỉnh ủy", "BTGTU"),
            "commune" => ("Đảng ủy", "BTG"),
            _ => ("Huyện ủy", "BTGHU"),
        };
        Board {
            committee,
            place: name.to_owned(),
            abbreviation,
            seat: name.to_owned(),
        }
    }

    /// The Party committee above the board, in capitals: "TỈNH ỦY THÁI BÌNH", "BAN CHẤP HÀNH
    /// TRUNG ƯƠNG".
    pub fn superior(&self) -> String {
        format!("{} {}", self.committee, self.place).to_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_is_named_as_its_documents_name_it() {
        let b = Board::of("nation", "Toàn quốc");
        assert_eq!(
            (b.superior(), b.abbreviation, b.seat.as_str()),
            ("BAN CHẤP HÀNH TRUNG ƯƠNG".into(), "BTGTW", "Hà Nội")
        );
        let b = Board::of("province", "Tỉnh Thái Bình");
        assert_eq!(
            (b.superior(), b.abbreviation),
            ("TỈNH ỦY THÁI BÌNH".into(), "BTGTU")
        );
        let b = Board::of("province", "Thành phố Hà Nội");
        assert_eq!(
            (b.superior(), b.abbreviation),
            ("THÀNH ỦY HÀ NỘI".into(), "BTGThU")
        );
        let b = Board::of("district", "Huyện Quỳnh Phụ");
        assert_eq!(
            (b.superior(), b.seat.as_str()),
            ("HUYỆN ỦY QUỲNH PHỤ".into(), "Quỳnh Phụ")
        );
        let b = Board::of("commune", "Xã An Khê");
        assert_eq!(
            (b.superior(), b.abbreviation),
            ("ĐẢNG ỦY XÃ AN KHÊ".into(), "BTG")
        );
    }
}
