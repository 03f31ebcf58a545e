#include "hub/xlsx_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace seghub::hub {
namespace {

using testing::ReadZip;
using testing::XmlProblem;

std::vector<XlsxSheet> Sample() {
  XlsxSheet a{"Summary", {"image", "count", "mean"}, {}};
  a.rows.push_back({std::string("a<b>&\"c\".png"), 3.0, 1.5});
  a.rows.push_back({std::string(" µm² spaced "), XlsxCell(), NAN});
  a.rows.push_back({std::string("bad\xff\x01utf8"), 1e300, -0.25});
  XlsxSheet b{"Polygons", {"id"}, {}};
  for (int i = 0; i < 30; ++i) b.rows.push_back({static_cast<double>(i)});
  return {a, b};
}

TEST(XlsxWriterTest, ColumnNames) {
  EXPECT_EQ(XlsxColumnName(0), "A");
  EXPECT_EQ(XlsxColumnName(25), "Z");
  EXPECT_EQ(XlsxColumnName(26), "AA");
  EXPECT_EQ(XlsxColumnName(701), "ZZ");
  EXPECT_EQ(XlsxColumnName(702), "AAA");
  EXPECT_EQ(XlsxColumnName(16383), "XFD");  // Excel's last column
}

TEST(XlsxWriterTest, PackageHasEveryPartAndAllXmlIsWellFormed) {
  auto bytes = WriteXlsx(Sample());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  const auto parts = ReadZip(*bytes);
  for (const char* name :
       {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
        "xl/styles.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"}) {
    EXPECT_TRUE(parts.count(name)) << name;
  }
  EXPECT_EQ(parts.size(), 7u);
  for (const auto& [name, xml] : parts) EXPECT_EQ(XmlProblem(xml), "") << name;
  const std::string& types = parts.at("[Content_Types].xml");
  EXPECT_NE(types.find("/xl/worksheets/sheet2.xml"), std::string::npos);
  const std::string& workbook = parts.at("xl/workbook.xml");
  EXPECT_NE(workbook.find("name=\"Summary\""), std::string::npos);
  EXPECT_NE(workbook.find("name=\"Polygons\""), std::string::npos);
}

TEST(XlsxWriterTest, CellsAreEscapedTypedAndAddressed) {
  auto bytes = WriteXlsx(Sample());
  ASSERT_TRUE(bytes.ok());
  const std::string sheet = ReadZip(*bytes).at("xl/worksheets/sheet1.xml");
  EXPECT_NE(sheet.find("<c r=\"A1\" s=\"1\" t=\"inlineStr\"><is><t>image</t>"), std::string::npos);
  EXPECT_NE(sheet.find("a&lt;b&gt;&amp;&quot;c&quot;.png"), std::string::npos);
  EXPECT_NE(sheet.find("<c r=\"B2\"><v>3</v></c>"), std::string::npos);
  EXPECT_NE(sheet.find("<c r=\"C2\"><v>1.5</v></c>"), std::string::npos);
  EXPECT_NE(sheet.find("xml:space=\"preserve\"> µm² spaced </t>"), std::string::npos);
  EXPECT_EQ(sheet.find("r=\"B3\""), std::string::npos);                         // empty cell
  EXPECT_EQ(sheet.find("r=\"C3\""), std::string::npos);                         // NaN: no cell
  EXPECT_NE(sheet.find("bad\xEF\xBF\xBD\xEF\xBF\xBDutf8"), std::string::npos);  // U+FFFD twice
  EXPECT_NE(sheet.find("<row r=\"4\">"), std::string::npos);
  EXPECT_NE(sheet.find("state=\"frozen\""), std::string::npos);
}

TEST(XlsxWriterTest, RejectsBadSheetNames) {
  for (const std::string& name : {std::string(""), std::string(32, 'x'), std::string("a/b"),
                                  std::string("[x]"), std::string("what?"), std::string("'q")}) {
    auto r = WriteXlsx({XlsxSheet{name, {}, {}}});
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << name;
  }
  EXPECT_FALSE(WriteXlsx({XlsxSheet{"Data", {}, {}}, XlsxSheet{"data", {}, {}}}).ok());
  EXPECT_FALSE(WriteXlsx({}).ok());
  EXPECT_TRUE(WriteXlsx({XlsxSheet{std::string(31, 'x'), {}, {}}}).ok());
}

// The real test of "opens in a spreadsheet program": openpyxl (warnings as errors), when this
// machine has it (pip's or Debian's python3-openpyxl).
TEST(XlsxWriterTest, OpenpyxlReadsItWhenAvailable) {
  std::string python;
  for (const char* candidate : {"python3", "/usr/bin/python3"}) {
    const std::string probe = std::string(candidate) + " -c 'import openpyxl' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) {
      python = candidate;
      break;
    }
  }
  ASSERT_FALSE(python.empty())
      << "openpyxl missing: scripts/bootstrap.sh installs python3-openpyxl";
  auto bytes = WriteXlsx(Sample());
  ASSERT_TRUE(bytes.ok());
  const auto path = std::filesystem::temp_directory_path() / "seghub_xlsx_test.xlsx";
  std::ofstream(path, std::ios::binary) << *bytes;
  const std::string cmd =
      python +
      " -W error -c \"import openpyxl,sys; wb=openpyxl.load_workbook(sys.argv[1]); "
      "s=wb['Summary']; assert s['B2'].value==3 and s['A1'].value=='image'; "
      "assert s['A3'].value==' \u00b5m\u00b2 spaced ' and s['B3'].value is None; "
      "assert wb['Polygons'].max_row==31 and wb['Polygons']['A31'].value==29\" " +
      path.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace seghub::hub
