// The demo's word lists. German names and places: the demo company is a
// retailer and service provider in Germany (decimal comma, DD.MM.YYYY in its
// back-office exports).
#include "demo/internal/words.h"

#include <array>

namespace rapport::demo::words {
namespace {

constexpr std::array<std::string_view, 48> kFemaleFirstA = {
    "Anna", "Marie", "Sophie", "Laura", "Lea", "Julia", "Lena", "Hannah", "Sarah", "Lisa", "Katharina", "Johanna",
    "Emma", "Mia", "Clara", "Paula", "Nina", "Sabine", "Petra", "Claudia", "Monika", "Susanne", "Andrea", "Birgit",
    "Karin", "Ursula", "Renate", "Heike", "Martina", "Stefanie", "Nicole", "Anja", "Christina", "Melanie", "Sandra",
    "Jana", "Franziska", "Charlotte", "Emilia", "Greta", "Ida", "Frieda", "Elif", "Zeynep", "Aylin", "Olga", "Ewa",
    "Ingrid"};
constexpr std::array<std::string_view, 48> kMaleFirstA = {
    "Lukas", "Jonas", "Leon", "Finn", "Paul", "Felix", "Maximilian", "Elias", "Noah", "Ben", "Tim", "Jan",
    "Thomas", "Michael", "Andreas", "Stefan", "Christian", "Markus", "Frank", "Peter", "Klaus", "Wolfgang",
    "Jürgen", "Uwe", "Dirk", "Sven", "Tobias", "Florian", "Sebastian", "Daniel", "Alexander", "Matthias", "Martin",
    "Johannes", "Moritz", "Anton", "Emil", "Karl", "Hans", "Heinz", "Mehmet", "Emre", "Can", "Piotr", "Tomasz",
    "Luca", "Marco", "Niklas"};
constexpr std::array<std::string_view, 72> kLastA = {
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
    "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser",
    "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel", "Friedrich",
    "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz", "Baumann", "Franke", "Albrecht",
    "Yılmaz", "Kaya", "Nowak", "Kowalski", "Rossi", "Öztürk", "Ludwig", "Simon", "Böhm"};
constexpr std::array<std::string_view, 36> kStreetsA = {
    "Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße", "Birkenweg",
    "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße", "Schillerstraße", "Goethestraße", "Jahnstraße",
    "Am Markt", "Mühlenweg", "Wiesenweg", "Rosenstraße", "Feldstraße", "Blumenstraße", "Parkstraße",
    "Friedhofstraße", "Mozartstraße", "Beethovenstraße", "Eichenweg", "Tannenweg", "Ahornweg", "Buchenweg",
    "Industriestraße", "Hafenstraße", "Lessingstraße", "Am Anger", "Poststraße", "Brunnenstraße", "Talstraße",
    "Kastanienallee"};
constexpr std::array<City, 28> kCitiesA = {{
    {"Berlin", "Ost", "10", 36}, {"Hamburg", "Nord", "20", 18}, {"München", "Süd", "80", 15},
    {"Köln", "West", "50", 11}, {"Frankfurt am Main", "West", "60", 8}, {"Stuttgart", "Süd", "70", 6},
    {"Düsseldorf", "West", "40", 6}, {"Leipzig", "Ost", "04", 6}, {"Dortmund", "West", "44", 6},
    {"Essen", "West", "45", 6}, {"Bremen", "Nord", "28", 6}, {"Dresden", "Ost", "01", 6},
    {"Hannover", "Nord", "30", 5}, {"Nürnberg", "Süd", "90", 5}, {"Duisburg", "West", "47", 5},
    {"Bochum", "West", "44", 4}, {"Bielefeld", "West", "33", 3}, {"Bonn", "West", "53", 3},
    {"Münster", "West", "48", 3}, {"Mannheim", "Süd", "68", 3}, {"Karlsruhe", "Süd", "76", 3},
    {"Augsburg", "Süd", "86", 3}, {"Kiel", "Nord", "24", 2}, {"Rostock", "Nord", "18", 2},
    {"Erfurt", "Ost", "99", 2}, {"Magdeburg", "Ost", "39", 2}, {"Freiburg im Breisgau", "Süd", "79", 2},
    {"Lübeck", "Nord", "23", 2},
}};
constexpr std::array<std::string_view, 10> kMailDomainsA = {
    "gmail.com", "web.de", "gmx.de", "t-online.de", "outlook.com", "yahoo.de", "freenet.de", "posteo.de",
    "icloud.com", "mail.de"};
constexpr std::array<std::string_view, 10> kMailTypoDomainsA = {
    "gmial.com", "web.de", "gmx.net", "t-onlne.de", "outlok.com", "yahoo.com", "freenet.de", "posteo.de",
    "iclod.com", "mail.de"};
constexpr std::array<std::string_view, 24> kCompanyPrefixesA = {
    "Nordwind", "Alpen", "Rhein", "Elbe", "Spree", "Hanse", "Sonnen", "Blau", "Grün", "Adler", "Falken",
    "Eichen", "Linden", "Brücken", "Stern", "Berg", "Tal", "Ost", "West", "Süd", "Kristall", "Mosel",
    "Main", "Weser"};
constexpr std::array<Company, 16> kCompanyStemsA = {{
    {"Logistik", "logistics"}, {"Bau", "construction"}, {"Technik", "engineering"}, {"Software", "software"},
    {"Pharma", "healthcare"}, {"Handel", "retail"}, {"Energie", "energy"}, {"Druck", "printing"},
    {"Möbel", "furniture"}, {"Metall", "manufacturing"}, {"Consulting", "consulting"}, {"Immobilien", "real estate"},
    {"Gastro", "hospitality"}, {"Medien", "media"}, {"Agrar", "agriculture"}, {"Elektro", "electrical"},
}};
constexpr std::array<std::string_view, 5> kLegalFormsA = {"GmbH", "GmbH & Co. KG", "AG", "KG", "e.K."};
constexpr std::array<Product, 40> kProductsA = {{
    {"SKU-1001", "Coffee beans 1 kg", "grocery", 14.90},      {"SKU-1002", "Green tea 100 bags", "grocery", 6.50},
    {"SKU-1003", "Olive oil 0.75 l", "grocery", 9.99},        {"SKU-1004", "Dark chocolate set", "grocery", 12.00},
    {"SKU-2001", "Cotton T-shirt", "fashion", 19.95},         {"SKU-2002", "Denim jeans", "fashion", 79.00},
    {"SKU-2003", "Rain jacket", "fashion", 129.00},           {"SKU-2004", "Leather boots", "fashion", 159.00},
    {"SKU-2005", "Wool scarf", "fashion", 34.90},             {"SKU-3001", "USB-C charger", "electronics", 24.99},
    {"SKU-3002", "Wireless headphones", "electronics", 149.00}, {"SKU-3003", "Smartphone", "electronics", 649.00},
    {"SKU-3004", "Laptop 14 inch", "electronics", 1199.00},   {"SKU-3005", "Smart speaker", "electronics", 89.00},
    {"SKU-3006", "4K television", "electronics", 899.00},     {"SKU-4001", "Frying pan", "home", 39.90},
    {"SKU-4002", "Bed linen set", "home", 59.00},             {"SKU-4003", "Desk lamp", "home", 45.00},
    {"SKU-4004", "Office chair", "home", 249.00},             {"SKU-4005", "Sofa", "home", 1490.00},
    {"SKU-4006", "Vacuum cleaner", "home", 299.00},           {"SKU-5001", "Novel (paperback)", "books", 12.99},
    {"SKU-5002", "Cookbook", "books", 29.90},                 {"SKU-5003", "Children's picture book", "books", 14.00},
    {"SKU-6001", "Running shoes", "sports", 119.00},          {"SKU-6002", "Yoga mat", "sports", 29.00},
    {"SKU-6003", "Bicycle helmet", "sports", 69.00},          {"SKU-6004", "E-bike", "sports", 2799.00},
    {"SKU-7001", "Printer paper 5x500", "office", 24.50},     {"SKU-7002", "Toner cartridge", "office", 89.00},
    {"SKU-7003", "Standing desk", "office", 549.00},          {"SKU-7004", "Conference headset", "office", 129.00},
    {"SKU-8001", "Gift card 25", "gift", 25.00},              {"SKU-8002", "Gift card 100", "gift", 100.00},
    {"SKU-9001", "Extended warranty", "service", 49.00},      {"SKU-9002", "Home installation", "service", 99.00},
    {"SKU-9003", "Premium membership (year)", "service", 59.00}, {"SKU-9004", "Express delivery", "service", 9.90},
    {"SKU-9005", "IT support hour", "service", 95.00},        {"SKU-9006", "Maintenance contract", "service", 480.00},
}};
constexpr std::array<std::string_view, 8> kRolesA = {"buyer", "managing director", "procurement", "finance",
                                                     "IT", "assistant", "facility manager", "head of sales"};
constexpr std::array<std::string_view, 24> kAgentsA = {
    "a.weber", "b.kaya", "c.hofmann", "d.nowak", "e.schulz", "f.becker", "g.roth", "h.lang", "i.keller",
    "j.vogel", "k.berger", "l.simon", "m.fuchs", "n.jung", "o.hahn", "p.lorenz", "r.kraus", "s.wolf",
    "t.braun", "u.koch", "v.peters", "w.scholz", "y.ozturk", "z.meier"};

}  // namespace

const std::span<const std::string_view> kFemaleFirst = kFemaleFirstA;
const std::span<const std::string_view> kMaleFirst = kMaleFirstA;
const std::span<const std::string_view> kLast = kLastA;
const std::span<const std::string_view> kStreets = kStreetsA;
const std::span<const City> kCities = kCitiesA;
const std::span<const std::string_view> kMailDomains = kMailDomainsA;
const std::span<const std::string_view> kMailTypoDomains = kMailTypoDomainsA;
const std::span<const std::string_view> kCompanyPrefixes = kCompanyPrefixesA;
const std::span<const Company> kCompanyStems = kCompanyStemsA;
const std::span<const std::string_view> kLegalForms = kLegalFormsA;
const std::span<const Product> kProducts = kProductsA;
const std::span<const std::string_view> kRoles = kRolesA;
const std::span<const std::string_view> kAgents = kAgentsA;

}  // namespace rapport::demo::words
