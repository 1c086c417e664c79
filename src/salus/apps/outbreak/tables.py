"""Reference tables of the outbreak app: ISO 3166 codes, JHU CSSE names, populations.

Kept as CSV text in a Python module so they ship inside the package with no
package-data configuration. :mod:`salus.apps.outbreak.regions` parses them once.

Sources:

- ``COUNTRIES``: ISO 3166-1 (alpha-2, alpha-3, numeric, short name, ASCII), plus the
  user-assigned ``XK``/``XKS`` that JHU CSSE uses for Kosovo. ``jhu_name`` is the
  spelling of the ``Country/Region`` column of the JHU CSSE files; ``lat``, ``long``
  and ``population`` are the country rows of JHU CSSE's
  ``csse_covid_19_data/UID_ISO_FIPS_LookUp_Table.csv`` (CC BY 4.0, the version at
  commit 011e21a9ff5ed2c6dc7bcbb5c315a8eb4475f858; JHU's README names the UN World
  Population Prospects 2019 and the US Census Bureau as its population sources, 2020
  estimates). Countries JHU added after that version (Antarctica, Korea North, Kiribati,
  Micronesia, Nauru, Palau, Samoa, Tonga, Tuvalu) have no population here: per
  100,000 figures are then ``null``, never guessed.
- ``PROVINCES``: the ``Province/State`` rows of the JHU global files mapped to
  ISO 3166-2 subdivisions (Australia, Canada, China), or to the territory's own
  ISO 3166-1 code where it has one (Greenland ``GL``, French Guiana ``GF``, Hong Kong
  ``HK``...), or to an admin area under the country (``CA:X-GRAND-PRINCESS``).
  Populations from the same lookup table.
- ``US_STATES``: ISO 3166-2:US codes, state FIPS codes and JHU ``Province_State`` names.
- ``ALIASES``: older or alternative spellings seen in JHU daily reports (early 2020)
  and their regions; ``SPECIAL``: non-ISO regions (cruise ships, events).
"""

from __future__ import annotations

from typing import Final

__all__ = ["ALIASES", "COUNTRIES", "PROVINCES", "SPECIAL", "US_STATES"]

COUNTRIES: Final = """\
iso2,iso3,numeric,name,jhu_name,lat,long,population
AD,AND,020,Andorra,Andorra,42.5063,1.5218,77265
AE,ARE,784,United Arab Emirates,United Arab Emirates,23.424076,53.847818,9890400
AF,AFG,004,Afghanistan,Afghanistan,33.93911,67.709953,38928341
AG,ATG,028,Antigua and Barbuda,Antigua and Barbuda,17.0608,-61.7964,97928
AI,AIA,660,Anguilla,,,,
AL,ALB,008,Albania,Albania,41.1533,20.1683,2877800
AM,ARM,051,Armenia,Armenia,40.0691,45.0382,2963234
AO,AGO,024,Angola,Angola,-11.2027,17.8739,32866268
AQ,ATA,010,Antarctica,Antarctica,,,
AR,ARG,032,Argentina,Argentina,-38.4161,-63.6167,45195777
AS,ASM,016,American Samoa,,,,
AT,AUT,040,Austria,Austria,47.5162,14.5501,9006400
AU,AUS,036,Australia,Australia,-25,133,25459700
AW,ABW,533,Aruba,,,,
AX,ALA,248,Aland Islands,,,,
AZ,AZE,031,Azerbaijan,Azerbaijan,40.1431,47.5769,10139175
BA,BIH,070,Bosnia and Herzegovina,Bosnia and Herzegovina,43.9159,17.6791,3280815
BB,BRB,052,Barbados,Barbados,13.1939,-59.5432,287371
BD,BGD,050,Bangladesh,Bangladesh,23.685,90.3563,164689383
BE,BEL,056,Belgium,Belgium,50.8333,4.469936,11589616
BF,BFA,854,Burkina Faso,Burkina Faso,12.2383,-1.5616,20903278
BG,BGR,100,Bulgaria,Bulgaria,42.7339,25.4858,6948445
BH,BHR,048,Bahrain,Bahrain,26.0275,50.55,1701583
BI,BDI,108,Burundi,Burundi,-3.3731,29.9189,11890781
BJ,BEN,204,Benin,Benin,9.3077,2.3158,12123198
BL,BLM,652,Saint Barthelemy,,,,
BM,BMU,060,Bermuda,,,,
BN,BRN,096,Brunei Darussalam,Brunei,4.5353,114.7277,437483
BO,BOL,068,Bolivia,Bolivia,-16.2902,-63.5887,11673029
BQ,BES,535,"Bonaire, Sint Eustatius and Saba",,,,
BR,BRA,076,Brazil,Brazil,-14.235,-51.9253,212559409
BS,BHS,044,Bahamas,Bahamas,25.025885,-78.035889,393248
BT,BTN,064,Bhutan,Bhutan,27.5142,90.4336,771612
BV,BVT,074,Bouvet Island,,,,
BW,BWA,072,Botswana,Botswana,-22.3285,24.6849,2351625
BY,BLR,112,Belarus,Belarus,53.7098,27.9534,9449321
BZ,BLZ,084,Belize,Belize,17.1899,-88.4976,397621
CA,CAN,124,Canada,Canada,60,-95,37855702
CC,CCK,166,Cocos (Keeling) Islands,,,,
CD,COD,180,"Congo, Democratic Republic of the",Congo (Kinshasa),-4.0383,21.7587,89561404
CF,CAF,140,Central African Republic,Central African Republic,6.6111,20.9394,4829764
CG,COG,178,Congo,Congo (Brazzaville),-0.228,15.8277,5518092
CH,CHE,756,Switzerland,Switzerland,46.8182,8.2275,8654618
CI,CIV,384,Cote d'Ivoire,Cote d'Ivoire,7.54,-5.5471,26378275
CK,COK,184,Cook Islands,,,,
CL,CHL,152,Chile,Chile,-35.6751,-71.543,19116209
CM,CMR,120,Cameroon,Cameroon,3.848,11.5021,26545864
CN,CHN,156,China,China,30.5928,114.3055,1404676330
CO,COL,170,Colombia,Colombia,4.5709,-74.2973,50882884
CR,CRI,188,Costa Rica,Costa Rica,9.7489,-83.7534,5094114
CU,CUB,192,Cuba,Cuba,21.521757,-77.781167,11326616
CV,CPV,132,Cabo Verde,Cabo Verde,16.5388,-23.0418,555988
CW,CUW,531,Curacao,,,,
CX,CXR,162,Christmas Island,,,,
CY,CYP,196,Cyprus,Cyprus,35.1264,33.4299,1207361
CZ,CZE,203,Czechia,Czechia,49.8175,15.473,10708982
DE,DEU,276,Germany,Germany,51.165691,10.451526,83783945
DJ,DJI,262,Djibouti,Djibouti,11.8251,42.5903,988002
DK,DNK,208,Denmark,Denmark,56.2639,9.5018,5792203
DM,DMA,212,Dominica,Dominica,15.415,-61.371,71991
DO,DOM,214,Dominican Republic,Dominican Republic,18.7357,-70.1627,10847904
DZ,DZA,012,Algeria,Algeria,28.0339,1.6596,43851043
EC,ECU,218,Ecuador,Ecuador,-1.8312,-78.1834,17643060
EE,EST,233,Estonia,Estonia,58.5953,25.0136,1326539
EG,EGY,818,Egypt,Egypt,26.820553,30.802498,102334403
EH,ESH,732,Western Sahara,Western Sahara,24.2155,-12.8858,597330
ER,ERI,232,Eritrea,Eritrea,15.1794,39.7823,3546427
ES,ESP,724,Spain,Spain,40.463667,-3.74922,46754783
ET,ETH,231,Ethiopia,Ethiopia,9.145,40.4897,114963583
FI,FIN,246,Finland,Finland,61.92411,25.748151,5540718
FJ,FJI,242,Fiji,Fiji,-17.7134,178.065,896444
FK,FLK,238,Falkland Islands (Malvinas),,,,
FM,FSM,583,Micronesia,Micronesia,,,
FO,FRO,234,Faroe Islands,,,,
FR,FRA,250,France,France,46.2276,2.2137,65273512
GA,GAB,266,Gabon,Gabon,-0.8037,11.6094,2225728
GB,GBR,826,United Kingdom,United Kingdom,55.3781,-3.436,67886004
GD,GRD,308,Grenada,Grenada,12.1165,-61.679,112519
GE,GEO,268,Georgia,Georgia,42.3154,43.3569,3989175
GF,GUF,254,French Guiana,,,,
GG,GGY,831,Guernsey,,,,
GH,GHA,288,Ghana,Ghana,7.9465,-1.0232,31072945
GI,GIB,292,Gibraltar,,,,
GL,GRL,304,Greenland,,,,
GM,GMB,270,Gambia,Gambia,13.4432,-15.3101,2416664
GN,GIN,324,Guinea,Guinea,9.9456,-9.6966,13132792
GP,GLP,312,Guadeloupe,,,,
GQ,GNQ,226,Equatorial Guinea,Equatorial Guinea,1.6508,10.2679,1402985
GR,GRC,300,Greece,Greece,39.0742,21.8243,10423056
GS,SGS,239,South Georgia and the South Sandwich Islands,,,,
GT,GTM,320,Guatemala,Guatemala,15.7835,-90.2308,17915567
GU,GUM,316,Guam,,,,
GW,GNB,624,Guinea-Bissau,Guinea-Bissau,11.8037,-15.1804,1967998
GY,GUY,328,Guyana,Guyana,4.860416,-58.93018,786559
HK,HKG,344,Hong Kong,,,,
HM,HMD,334,Heard Island and McDonald Islands,,,,
HN,HND,340,Honduras,Honduras,15.2,-86.2419,9904608
HR,HRV,191,Croatia,Croatia,45.1,15.2,4105268
HT,HTI,332,Haiti,Haiti,18.9712,-72.2852,11402533
HU,HUN,348,Hungary,Hungary,47.1625,19.5033,9660350
ID,IDN,360,Indonesia,Indonesia,-0.7893,113.9213,273523621
IE,IRL,372,Ireland,Ireland,53.1424,-7.6921,4937796
IL,ISR,376,Israel,Israel,31.046051,34.851612,8655541
IM,IMN,833,Isle of Man,,,,
IN,IND,356,India,India,20.593684,78.96288,1380004385
IO,IOT,086,British Indian Ocean Territory,,,,
IQ,IRQ,368,Iraq,Iraq,33.223191,43.679291,40222503
IR,IRN,364,Iran,Iran,32.427908,53.688046,83992953
IS,ISL,352,Iceland,Iceland,64.9631,-19.0208,341250
IT,ITA,380,Italy,Italy,41.87194,12.56738,60461828
JE,JEY,832,Jersey,,,,
JM,JAM,388,Jamaica,Jamaica,18.1096,-77.2975,2961161
JO,JOR,400,Jordan,Jordan,31.24,36.51,10203140
JP,JPN,392,Japan,Japan,36.204824,138.252924,126476458
KE,KEN,404,Kenya,Kenya,-0.0236,37.9062,53771300
KG,KGZ,417,Kyrgyzstan,Kyrgyzstan,41.20438,74.766098,6524191
KH,KHM,116,Cambodia,Cambodia,11.55,104.9167,16718971
KI,KIR,296,Kiribati,Kiribati,,,
KM,COM,174,Comoros,Comoros,-11.6455,43.3333,869595
KN,KNA,659,Saint Kitts and Nevis,Saint Kitts and Nevis,17.357822,-62.782998,53192
KP,PRK,408,"Korea, Democratic People's Republic of","Korea, North",,,
KR,KOR,410,"Korea, Republic of","Korea, South",35.907757,127.766922,51269183
KW,KWT,414,Kuwait,Kuwait,29.31166,47.481766,4270563
KY,CYM,136,Cayman Islands,,,,
KZ,KAZ,398,Kazakhstan,Kazakhstan,48.0196,66.9237,18776707
LA,LAO,418,Lao People's Democratic Republic,Laos,19.85627,102.495496,7275556
LB,LBN,422,Lebanon,Lebanon,33.8547,35.8623,6825442
LC,LCA,662,Saint Lucia,Saint Lucia,13.9094,-60.9789,183629
LI,LIE,438,Liechtenstein,Liechtenstein,47.14,9.55,38137
LK,LKA,144,Sri Lanka,Sri Lanka,7.873054,80.771797,21413250
LR,LBR,430,Liberia,Liberia,6.428055,-9.429499,5057677
LS,LSO,426,Lesotho,Lesotho,-29.61,28.2336,2142252
LT,LTU,440,Lithuania,Lithuania,55.1694,23.8813,2722291
LU,LUX,442,Luxembourg,Luxembourg,49.8153,6.1296,625976
LV,LVA,428,Latvia,Latvia,56.8796,24.6032,1886202
LY,LBY,434,Libya,Libya,26.3351,17.228331,6871287
MA,MAR,504,Morocco,Morocco,31.7917,-7.0926,36910558
MC,MCO,492,Monaco,Monaco,43.7333,7.4167,39244
MD,MDA,498,Moldova,Moldova,47.4116,28.3699,4033963
ME,MNE,499,Montenegro,Montenegro,42.708678,19.37439,628062
MF,MAF,663,Saint Martin (French part),,,,
MG,MDG,450,Madagascar,Madagascar,-18.766947,46.869107,27691019
MH,MHL,584,Marshall Islands,Marshall Islands,7.1315,171.1845,58413
MK,MKD,807,North Macedonia,North Macedonia,41.6086,21.7453,2083380
ML,MLI,466,Mali,Mali,17.570692,-3.996166,20250834
MM,MMR,104,Myanmar,Burma,21.9162,95.956,54409794
MN,MNG,496,Mongolia,Mongolia,46.8625,103.8467,3278292
MO,MAC,446,Macao,,,,
MP,MNP,580,Northern Mariana Islands,,,,
MQ,MTQ,474,Martinique,,,,
MR,MRT,478,Mauritania,Mauritania,21.0079,-10.9408,4649660
MS,MSR,500,Montserrat,,,,
MT,MLT,470,Malta,Malta,35.9375,14.3754,441539
MU,MUS,480,Mauritius,Mauritius,-20.348404,57.552152,1271767
MV,MDV,462,Maldives,Maldives,3.2028,73.2207,540542
MW,MWI,454,Malawi,Malawi,-13.2543,34.3015,19129955
MX,MEX,484,Mexico,Mexico,23.6345,-102.5528,127792286
MY,MYS,458,Malaysia,Malaysia,4.210484,101.975766,32365998
MZ,MOZ,508,Mozambique,Mozambique,-18.665695,35.529562,31255435
NA,NAM,516,Namibia,Namibia,-22.9576,18.4904,2540916
NC,NCL,540,New Caledonia,,,,
NE,NER,562,Niger,Niger,17.607789,8.081666,24206636
NF,NFK,574,Norfolk Island,,,,
NG,NGA,566,Nigeria,Nigeria,9.082,8.6753,206139587
NI,NIC,558,Nicaragua,Nicaragua,12.865416,-85.207229,6624554
NL,NLD,528,Netherlands,Netherlands,52.1326,5.2913,17134873
NO,NOR,578,Norway,Norway,60.472,8.4689,5421242
NP,NPL,524,Nepal,Nepal,28.1667,84.25,29136808
NR,NRU,520,Nauru,Nauru,,,
NU,NIU,570,Niue,,,,
NZ,NZL,554,New Zealand,New Zealand,-40.9006,174.886,4822233
OM,OMN,512,Oman,Oman,21.512583,55.923255,5106622
PA,PAN,591,Panama,Panama,8.538,-80.7821,4314768
PE,PER,604,Peru,Peru,-9.19,-75.0152,32971846
PF,PYF,258,French Polynesia,,,,
PG,PNG,598,Papua New Guinea,Papua New Guinea,-6.314993,143.95555,8947027
PH,PHL,608,Philippines,Philippines,12.879721,121.774017,109581085
PK,PAK,586,Pakistan,Pakistan,30.3753,69.3451,220892331
PL,POL,616,Poland,Poland,51.9194,19.1451,37846605
PM,SPM,666,Saint Pierre and Miquelon,,,,
PN,PCN,612,Pitcairn,,,,
PR,PRI,630,Puerto Rico,,,,
PS,PSE,275,"Palestine, State of",West Bank and Gaza,31.9522,35.2332,5101416
PT,PRT,620,Portugal,Portugal,39.3999,-8.2245,10196707
PW,PLW,585,Palau,Palau,,,
PY,PRY,600,Paraguay,Paraguay,-23.4425,-58.4438,7132530
QA,QAT,634,Qatar,Qatar,25.3548,51.1839,2881060
RE,REU,638,Reunion,,,,
RO,ROU,642,Romania,Romania,45.9432,24.9668,19237682
RS,SRB,688,Serbia,Serbia,44.0165,21.0059,8737370
RU,RUS,643,Russian Federation,Russia,61.52401,105.318756,145934460
RW,RWA,646,Rwanda,Rwanda,-1.9403,29.8739,12952209
SA,SAU,682,Saudi Arabia,Saudi Arabia,23.885942,45.079162,34813867
SB,SLB,090,Solomon Islands,Solomon Islands,-9.6457,160.1562,652858
SC,SYC,690,Seychelles,Seychelles,-4.6796,55.492,98340
SD,SDN,729,Sudan,Sudan,12.8628,30.2176,43849269
SE,SWE,752,Sweden,Sweden,60.128161,18.643501,10099270
SG,SGP,702,Singapore,Singapore,1.2833,103.8333,5850343
SH,SHN,654,"Saint Helena, Ascension and Tristan da Cunha",,,,
SI,SVN,705,Slovenia,Slovenia,46.1512,14.9955,2078932
SJ,SJM,744,Svalbard and Jan Mayen,,,,
SK,SVK,703,Slovakia,Slovakia,48.669,19.699,5459643
SL,SLE,694,Sierra Leone,Sierra Leone,8.460555,-11.779889,7976985
SM,SMR,674,San Marino,San Marino,43.9424,12.4578,33938
SN,SEN,686,Senegal,Senegal,14.4974,-14.4524,16743930
SO,SOM,706,Somalia,Somalia,5.152149,46.199616,15893219
SR,SUR,740,Suriname,Suriname,3.9193,-56.0278,586634
SS,SSD,728,South Sudan,South Sudan,6.877,31.307,11193729
ST,STP,678,Sao Tome and Principe,Sao Tome and Principe,0.1864,6.6131,219161
SV,SLV,222,El Salvador,El Salvador,13.7942,-88.8965,6486201
SX,SXM,534,Sint Maarten (Dutch part),,,,
SY,SYR,760,Syrian Arab Republic,Syria,34.802075,38.996815,17500657
SZ,SWZ,748,Eswatini,Eswatini,-26.5225,31.4659,1160164
TC,TCA,796,Turks and Caicos Islands,,,,
TD,TCD,148,Chad,Chad,15.4542,18.7322,16425859
TF,ATF,260,French Southern Territories,,,,
TG,TGO,768,Togo,Togo,8.6195,0.8248,8278737
TH,THA,764,Thailand,Thailand,15.870032,100.992541,69799978
TJ,TJK,762,Tajikistan,Tajikistan,38.861,71.2761,9537642
TK,TKL,772,Tokelau,,,,
TL,TLS,626,Timor-Leste,Timor-Leste,-8.874217,125.727539,1318442
TM,TKM,795,Turkmenistan,,,,
TN,TUN,788,Tunisia,Tunisia,33.886917,9.537499,11818618
TO,TON,776,Tonga,Tonga,,,
TR,TUR,792,Turkiye,Turkey,38.9637,35.2433,84339067
TT,TTO,780,Trinidad and Tobago,Trinidad and Tobago,10.6918,-61.2225,1399491
TV,TUV,798,Tuvalu,Tuvalu,,,
TW,TWN,158,Taiwan,Taiwan*,23.7,121,23816775
TZ,TZA,834,Tanzania,Tanzania,-6.369028,34.888822,59734213
UA,UKR,804,Ukraine,Ukraine,48.3794,31.1656,43733759
UG,UGA,800,Uganda,Uganda,1.373333,32.290275,45741000
UM,UMI,581,United States Minor Outlying Islands,,,,
US,USA,840,United States of America,US,40,-100,329466283
UY,URY,858,Uruguay,Uruguay,-32.5228,-55.7658,3473727
UZ,UZB,860,Uzbekistan,Uzbekistan,41.377491,64.585262,33469199
VA,VAT,336,Holy See,Holy See,41.9029,12.4534,809
VC,VCT,670,Saint Vincent and the Grenadines,Saint Vincent and the Grenadines,12.9843,-61.2872,110947
VE,VEN,862,Venezuela,Venezuela,6.4238,-66.5897,28435943
VG,VGB,092,Virgin Islands (British),,,,
VI,VIR,850,Virgin Islands (U.S.),,,,
VN,VNM,704,Viet Nam,Vietnam,14.058324,108.277199,97338583
VU,VUT,548,Vanuatu,Vanuatu,-15.3767,166.9592,292680
WF,WLF,876,Wallis and Futuna,,,,
WS,WSM,882,Samoa,Samoa,,,
XK,XKS,383,Kosovo,Kosovo,42.602636,20.902977,1810366
YE,YEM,887,Yemen,Yemen,15.552727,48.516388,29825968
YT,MYT,175,Mayotte,,,,
ZA,ZAF,710,South Africa,South Africa,-30.5595,22.9375,59308690
ZM,ZMB,894,Zambia,Zambia,-13.133897,27.849332,18383956
ZW,ZWE,716,Zimbabwe,Zimbabwe,-19.015438,29.154857,14862927
"""

# Province/State rows of the JHU global files. ``region`` is an ISO 3166-2 code, the
# territory's own ISO 3166-1 code, or an admin area ``<country>:<local id>``.
PROVINCES: Final = """\
country,province,region,lat,long,population
AU,Australian Capital Territory,AU-ACT,-35.4735,149.0124,428100
AU,New South Wales,AU-NSW,-33.8688,151.2093,8118000
AU,Northern Territory,AU-NT,-12.4634,130.8456,245600
AU,Queensland,AU-QLD,-27.4698,153.0251,5115500
AU,South Australia,AU-SA,-34.9285,138.6007,1756500
AU,Tasmania,AU-TAS,-42.8821,147.3272,535500
AU,Victoria,AU-VIC,-37.8136,144.9631,6629900
AU,Western Australia,AU-WA,-31.9505,115.8605,2630600
CA,Alberta,CA-AB,53.9333,-116.5765,4413146
CA,British Columbia,CA-BC,53.7267,-127.6476,5110917
CA,Diamond Princess,CA:X-DIAMOND-PRINCESS,,,
CA,Grand Princess,CA:X-GRAND-PRINCESS,,,
CA,Manitoba,CA-MB,53.7609,-98.8139,1377517
CA,New Brunswick,CA-NB,46.5653,-66.4619,779993
CA,Newfoundland and Labrador,CA-NL,53.1355,-57.6604,521365
CA,Northwest Territories,CA-NT,64.8255,-124.8457,44904
CA,Nova Scotia,CA-NS,44.682,-63.7443,977457
CA,Nunavut,CA-NU,,,
CA,Ontario,CA-ON,51.2538,-85.3232,14711827
CA,Prince Edward Island,CA-PE,46.5107,-63.4168,158158
CA,Quebec,CA-QC,52.9399,-73.5491,8537674
CA,Repatriated Travellers,CA:REPATRIATED-TRAVELLERS,,,
CA,Saskatchewan,CA-SK,52.9399,-106.4509,1181666
CA,Yukon,CA-YT,64.2823,-135,41078
CN,Anhui,CN-AH,31.8257,117.2264,63240000
CN,Beijing,CN-BJ,40.1824,116.4142,21540000
CN,Chongqing,CN-CQ,30.0572,107.874,31020000
CN,Fujian,CN-FJ,26.0789,117.9874,39410000
CN,Gansu,CN-GS,35.7518,104.2861,26370000
CN,Guangdong,CN-GD,23.3417,113.4244,113460000
CN,Guangxi,CN-GX,23.8298,108.7881,49260000
CN,Guizhou,CN-GZ,26.8154,106.8748,36000000
CN,Hainan,CN-HI,19.1959,109.7453,9340000
CN,Hebei,CN-HE,37.8957,114.9042,75560000
CN,Heilongjiang,CN-HL,47.862,127.7615,37730000
CN,Henan,CN-HA,33.882,113.614,96050000
CN,Hong Kong,HK,22.3,114.2,7496988
CN,Hubei,CN-HB,30.9756,112.2707,59170000
CN,Hunan,CN-HN,27.6104,111.7088,68990000
CN,Inner Mongolia,CN-NM,44.0935,113.9448,25340000
CN,Jiangsu,CN-JS,32.9711,119.455,80510000
CN,Jiangxi,CN-JX,27.614,115.7221,46480000
CN,Jilin,CN-JL,43.6661,126.1923,27040000
CN,Liaoning,CN-LN,41.2956,122.6085,43590000
CN,Macau,MO,22.1667,113.55,649342
CN,Ningxia,CN-NX,37.2692,106.1655,6880000
CN,Qinghai,CN-QH,35.7452,95.9956,6030000
CN,Shaanxi,CN-SN,35.1917,108.8701,38640000
CN,Shandong,CN-SD,36.3427,118.1498,100470000
CN,Shanghai,CN-SH,31.202,121.4491,24240000
CN,Shanxi,CN-SX,37.5777,112.2922,37180000
CN,Sichuan,CN-SC,30.6171,102.7103,83410000
CN,Tianjin,CN-TJ,39.3054,117.323,15600000
CN,Tibet,CN-XZ,31.6927,88.0924,3440000
CN,Unknown,CN:UNKNOWN,,,
CN,Xinjiang,CN-XJ,41.1129,85.2401,24870000
CN,Yunnan,CN-YN,24.974,101.487,48300000
CN,Zhejiang,CN-ZJ,29.1832,120.0934,57370000
DK,Faroe Islands,FO,61.8926,-6.9118,48865
DK,Greenland,GL,71.7069,-42.6043,56772
FR,French Guiana,GF,4,-53,298682
FR,French Polynesia,PF,-17.6797,-149.4068,280904
FR,Guadeloupe,GP,16.265,-61.551,400127
FR,Martinique,MQ,14.6415,-61.0242,375265
FR,Mayotte,YT,-12.8275,45.166244,272813
FR,New Caledonia,NC,-20.904305,165.618042,285491
FR,Reunion,RE,-21.1151,55.5364,895308
FR,Saint Barthelemy,BL,17.9,-62.8333,9885
FR,Saint Pierre and Miquelon,PM,46.8852,-56.3159,5795
FR,St Martin,MF,18.0708,-63.0501,38659
FR,Wallis and Futuna,WF,-14.2938,-178.1165,15289
NL,Aruba,AW,12.5211,-69.9683,106766
NL,"Bonaire, Sint Eustatius and Saba",BQ,12.1784,-68.2385,26221
NL,Curacao,CW,12.1696,-68.99,164100
NL,Sint Maarten,SX,18.0425,-63.0548,42882
NZ,Cook Islands,CK,,,
NZ,Niue,NU,,,
GB,Anguilla,AI,18.2206,-63.0686,15002
GB,Bermuda,BM,32.3078,-64.7505,62273
GB,British Virgin Islands,VG,18.4207,-64.64,30237
GB,Cayman Islands,KY,19.3133,-81.2546,65720
GB,Channel Islands,GB:CHANNEL-ISLANDS,49.3723,-2.3644,170499
GB,Falkland Islands (Malvinas),FK,-51.7963,-59.5236,3483
GB,Gibraltar,GI,36.1408,-5.3536,33691
GB,Guernsey,GG,,,
GB,Isle of Man,IM,54.2361,-4.5481,85032
GB,Jersey,JE,,,
GB,Montserrat,MS,16.742498,-62.187366,4999
GB,Pitcairn Islands,PN,,,
GB,"Saint Helena, Ascension and Tristan da Cunha",SH,,,
GB,Turks and Caicos Islands,TC,21.694,-71.7979,38718
"""

# ISO 3166-2:US (50 states, DC and the outlying areas) with state FIPS codes.
US_STATES: Final = """\
code,fips,name
US-AL,01,Alabama
US-AK,02,Alaska
US-AZ,04,Arizona
US-AR,05,Arkansas
US-CA,06,California
US-CO,08,Colorado
US-CT,09,Connecticut
US-DE,10,Delaware
US-DC,11,District of Columbia
US-FL,12,Florida
US-GA,13,Georgia
US-HI,15,Hawaii
US-ID,16,Idaho
US-IL,17,Illinois
US-IN,18,Indiana
US-IA,19,Iowa
US-KS,20,Kansas
US-KY,21,Kentucky
US-LA,22,Louisiana
US-ME,23,Maine
US-MD,24,Maryland
US-MA,25,Massachusetts
US-MI,26,Michigan
US-MN,27,Minnesota
US-MS,28,Mississippi
US-MO,29,Missouri
US-MT,30,Montana
US-NE,31,Nebraska
US-NV,32,Nevada
US-NH,33,New Hampshire
US-NJ,34,New Jersey
US-NM,35,New Mexico
US-NY,36,New York
US-NC,37,North Carolina
US-ND,38,North Dakota
US-OH,39,Ohio
US-OK,40,Oklahoma
US-OR,41,Oregon
US-PA,42,Pennsylvania
US-RI,44,Rhode Island
US-SC,45,South Carolina
US-SD,46,South Dakota
US-TN,47,Tennessee
US-TX,48,Texas
US-UT,49,Utah
US-VT,50,Vermont
US-VA,51,Virginia
US-WA,53,Washington
US-WV,54,West Virginia
US-WI,55,Wisconsin
US-WY,56,Wyoming
US-AS,60,American Samoa
US-GU,66,Guam
US-MP,69,Northern Mariana Islands
US-PR,72,Puerto Rico
US-UM,74,United States Minor Outlying Islands
US-VI,78,Virgin Islands
"""

# Regions that are not ISO 3166 entities: ships and events JHU reported as countries.
SPECIAL: Final = """\
name,region
Diamond Princess,X-DIAMOND-PRINCESS
Grand Princess,X-GRAND-PRINCESS
MS Zaandam,X-MS-ZAANDAM
Summer Olympics 2020,X-SUMMER-OLYMPICS-2020
Winter Olympics 2022,X-WINTER-OLYMPICS-2022
"""

# Other spellings of Country/Region in JHU files (mostly the early-2020 daily reports).
ALIASES: Final = """\
name,region
Mainland China,CN
South Korea,KR
Republic of Korea,KR
Iran (Islamic Republic of),IR
Hong Kong,HK
Hong Kong SAR,HK
Macau,MO
Macao SAR,MO
Taiwan,TW
Taipei and environs,TW
UK,GB
Viet Nam,VN
Russian Federation,RU
Czech Republic,CZ
Ivory Coast,CI
occupied Palestinian territory,PS
Palestine,PS
Vatican City,VA
Republic of Moldova,MD
Republic of Ireland,IE
North Ireland,GB
The Bahamas,BS
"Bahamas, The",BS
The Gambia,GM
"Gambia, The",GM
Cape Verde,CV
East Timor,TL
Saint Martin,MF
St. Martin,MF
Channel Islands,GB:CHANNEL-ISLANDS
Faroe Islands,FO
Greenland,GL
Aruba,AW
Curacao,CW
Cayman Islands,KY
Reunion,RE
Mayotte,YT
Martinique,MQ
Guadeloupe,GP
French Guiana,GF
Guam,US-GU
Puerto Rico,US-PR
Gibraltar,GI
Jersey,JE
Guernsey,GG
Others,X-DIAMOND-PRINCESS
Cruise Ship,X-DIAMOND-PRINCESS
Burma,MM
Turkey,TR
United States,US
"""
