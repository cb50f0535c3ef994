<?xml version='1.0' encoding='UTF-8' standalone='yes'?>
<core:CityModel xmlns:core="http://www.opengis.net/citygml/3.0" xmlns:bldg="http://www.opengis.net/citygml/building/3.0" xmlns:con="http://www.opengis.net/citygml/construction/3.0" xmlns:gen="http://www.opengis.net/citygml/generics/3.0" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:xAL="urn:oasis:names:tc:ciq:xsdschema:xAL:2.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/citygml/3.0 https://schemas.opengis.net/citygml/3.0/core.xsd http://www.opengis.net/citygml/building/3.0 https://schemas.opengis.net/citygml/building/3.0/building.xsd http://www.opengis.net/citygml/construction/3.0 https://schemas.opengis.net/citygml/construction/3.0/construction.xsd http://www.opengis.net/citygml/generics/3.0 https://schemas.opengis.net/citygml/generics/3.0/generics.xsd">
  <gml:name>LoD2_32_328_5730_1_NW</gml:name>
  <gml:boundedBy>
    <gml:Envelope srsName="urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH*GCG2016">
      <gml:lowerCorner srsDimension="3">328000.0 5730000.0 15.849</gml:lowerCorner>
      <gml:upperCorner srsDimension="3">329000.0 5731000.0 32.07</gml:upperCorner>
    </gml:Envelope>
  </gml:boundedBy>
  <core:cityObjectMember>
    <bldg:Building gml:id="DENW34AL0000rEbC">
      <core:creationDate>2021-01-23</core:creationDate>
      <core:externalReference>
        <core:ExternalReference>
          <core:targetResource>DENW34AL0000rEbC</core:targetResource>
          <core:informationSystem>http://repository.gdi-de.org/schemas/adv/citygml/fdv/art.htm#_9100</core:informationSystem>
        </core:ExternalReference>
      </core:externalReference>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>DatenquelleDachhoehe</gen:name>
          <gen:value>1000</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>Geometrietyp2DReferenz</gen:name>
          <gen:value>3000</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>Gemeindeschluessel</gen:name>
          <gen:value>05170048</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>DatenquelleBodenhoehe</gen:name>
          <gen:value>1100</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>DatenquelleLage</gen:name>
          <gen:value>1000</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>Grundrissaktualitaet</gen:name>
          <gen:value>2020-07-01</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <bldg:function>31001_2720</bldg:function>
      <bldg:roofType>3200</bldg:roofType>
      <con:height>
        <con:Height>
          <con:highReference>highestRoofEdge</con:highReference>
          <con:lowReference>lowestGroundPoint</con:lowReference>
          <con:status>measured</con:status>
          <con:value uom="m">6.605</con:value>
        </con:Height>
      </con:height>
      <core:lod2Solid>
        <gml:Solid>
          <gml:exterior>
            <gml:Shell>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_117_2_0"/>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_117_2_4"/>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_117_2_5"/>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_117_2_6"/>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_117_2_7"/>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_117_2_3"/>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_117_2_8"/>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_117_2_1"/>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_117_2_2"/>
            </gml:Shell>
          </gml:exterior>
        </gml:Solid>
      </core:lod2Solid>
      <core:lod2TerrainIntersectionCurve>
        <gml:MultiCurve>
          <gml:curveMember>
            <gml:LineString>
              <gml:posList srsDimension="3">328119.964 5730708.594 17.579 328120.0 5730708.813 17.58 328120.031 5730709.0 17.582 328120.037 5730709.037 17.581 328120.195 5730710.0 17.594 328120.233 5730710.233 17.592 328120.359 5730711.0 17.594 328120.429 5730711.429 17.603 328120.523 5730712.0 17.606 328120.626 5730712.626 17.609 328120.687 5730713.0 17.614 328120.822 5730713.822 17.608 328120.851 5730714.0 17.609 328121.0 5730714.908 17.664 328121.015 5730715.0 17.67 328121.018 5730715.018 17.671 328121.179 5730716.0 17.715 328121.214 5730716.214 17.721 328121.343 5730717.0 17.734 328121.411 5730717.411 17.728 328121.507 5730718.0 17.73 328121.607 5730718.607 17.726 328121.671 5730719.0 17.72 328121.803 5730719.803 17.716 328121.836 5730720.0 17.717 328122.0 5730721.0 17.73 328122.0 5730721.002 17.73 328122.164 5730722.0 17.713 328122.196 5730722.196 17.712 328122.328 5730723.0 17.7 328122.392 5730723.392 17.706 328122.492 5730724.0 17.72 328122.588 5730724.588 17.734 328122.656 5730725.0 17.74 328122.785 5730725.785 17.72 328122.82 5730726.0 17.718 328122.981 5730726.981 17.69 328122.984 5730727.0 17.69 328123.0 5730727.096 17.686 328123.133 5730727.907 17.662</gml:posList>
            </gml:LineString>
          </gml:curveMember>
          <gml:curveMember>
            <gml:LineString>
              <gml:posList srsDimension="3">328113.376 5730709.703 17.467 328113.656 5730709.656 17.479 328114.0 5730709.598 17.494 328114.512 5730709.512 17.501 328115.0 5730709.43 17.507 328115.368 5730709.368 17.512 328116.0 5730709.261 17.543 328116.224 5730709.224 17.542 328117.0 5730709.093 17.55 328117.08 5730709.08 17.551 328117.552 5730709.0 17.556 328117.935 5730708.935 17.559 328118.0 5730708.925 17.56 328118.791 5730708.791 17.568 328119.0 5730708.756 17.568 328119.647 5730708.647 17.573 328119.964 5730708.594 17.579</gml:posList>
            </gml:LineString>
          </gml:curveMember>
          <gml:curveMember>
            <gml:LineString>
              <gml:posList srsDimension="3">328113.376 5730709.703 17.467 328113.425 5730710.0 17.481 328113.509 5730710.509 17.485 328113.59 5730711.0 17.498 328113.706 5730711.706 17.508 328113.755 5730712.0 17.515 328113.904 5730712.904 17.527 328113.92 5730713.0 17.529 328114.0 5730713.487 17.535 328114.085 5730714.0 17.54 328114.101 5730714.101 17.541 328114.249 5730715.0 17.535 328114.299 5730715.299 17.536 328114.414 5730716.0 17.538 328114.496 5730716.496 17.545 328114.579 5730717.0 17.552 328114.694 5730717.694 17.554 328114.744 5730718.0 17.552 328114.891 5730718.891 17.548 328114.909 5730719.0 17.547 328115.0 5730719.551 17.544 328115.074 5730720.0 17.543 328115.089 5730720.089 17.542 328115.239 5730721.0 17.545 328115.286 5730721.286 17.549 328115.404 5730722.0 17.552 328115.484 5730722.484 17.555 328115.569 5730723.0 17.557 328115.681 5730723.681 17.554 328115.734 5730724.0 17.552 328115.879 5730724.879 17.548 328115.899 5730725.0 17.547 328116.0 5730725.615 17.55 328116.063 5730726.0 17.551 328116.076 5730726.076 17.551 328116.228 5730727.0 17.552 328116.273 5730727.273 17.55 328116.393 5730728.0 17.538 328116.471 5730728.471 17.53 328116.557 5730728.993 17.508</gml:posList>
            </gml:LineString>
          </gml:curveMember>
          <gml:curveMember>
            <gml:LineString>
              <gml:posList srsDimension="3">328116.557 5730728.993 17.508 328116.931 5730728.931 17.53 328117.0 5730728.92 17.532 328117.789 5730728.789 17.55 328118.0 5730728.755 17.555 328118.648 5730728.648 17.583 328119.0 5730728.59 17.594 328119.506 5730728.506 17.61 328120.0 5730728.424 17.62 328120.364 5730728.364 17.613 328121.0 5730728.259 17.63 328121.223 5730728.223 17.633 328122.0 5730728.094 17.637 328122.081 5730728.081 17.641 328122.57 5730728.0 17.646 328122.939 5730727.939 17.651 328123.0 5730727.929 17.653 328123.133 5730727.907 17.662</gml:posList>
            </gml:LineString>
          </gml:curveMember>
        </gml:MultiCurve>
      </core:lod2TerrainIntersectionCurve>
      <core:boundary>
        <con:WallSurface gml:id="UUID_ac16133a-b8d7-41da-86ef-1f9c4a3707ab">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_4c9f3bb5-34a6-4d4b-b3f4-dcafeda1cb80">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_117_2_1">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_117_2_1_0_">
                      <gml:posList srsDimension="3">328123.133 5730727.907 20.714 328119.964 5730708.594 20.714 328119.964 5730708.594 17.467 328123.133 5730727.907 17.467 328123.133 5730727.907 20.714</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:WallSurface>
      </core:boundary>
      <core:boundary>
        <con:WallSurface gml:id="UUID_d38e946c-705b-48ab-91d6-484fd8bd23b8">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_7b886daf-35ca-43a6-b141-da7ffcc0d6f9">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_117_2_2">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_117_2_2_0_">
                      <gml:posList srsDimension="3">328119.964 5730708.594 20.714 328113.376 5730709.703 20.714 328113.376 5730709.703 17.467 328119.964 5730708.594 17.467 328119.964 5730708.594 20.714</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:WallSurface>
      </core:boundary>
      <core:boundary>
        <con:WallSurface gml:id="UUID_7de4fb15-f1bd-476f-88cf-6972d7c53b71">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_4b9b5bd5-d3c3-4199-a5de-b6af812a1fd5">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_117_2_3">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_117_2_3_0_">
                      <gml:posList srsDimension="3">328113.376 5730709.703 20.714 328116.557 5730728.993 20.714 328116.557 5730728.993 17.467 328113.376 5730709.703 17.467 328113.376 5730709.703 20.714</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:WallSurface>
      </core:boundary>
      <core:boundary>
        <con:WallSurface gml:id="UUID_4673ba04-b76c-4c13-96cc-258d48e09976">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_52aca024-7e7c-4685-a9ce-9ad94e641623">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_117_2_4">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_117_2_4_0_">
                      <gml:posList srsDimension="3">328116.557 5730728.993 20.714 328123.133 5730727.907 20.714 328123.133 5730727.907 17.467 328116.557 5730728.993 17.467 328116.557 5730728.993 20.714</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:WallSurface>
      </core:boundary>
      <core:boundary>
        <con:RoofSurface gml:id="UUID_6cbbd4d7-0aac-4e8a-88fa-88d3867e6fc1">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_31292007-4414-40f8-b2e2-faf1aeb7a006">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_117_2_5">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_117_2_5_0_">
                      <gml:posList srsDimension="3">328113.376 5730709.703 20.714 328119.964 5730708.594 20.714 328117.213 5730712.448 24.072 328113.376 5730709.703 20.714</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:RoofSurface>
      </core:boundary>
      <core:boundary>
        <con:RoofSurface gml:id="UUID_0f06b1dc-f87b-4c74-9ddb-48dd006da4b0">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_77acacfc-2230-44a3-99e8-dd4919fa5223">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_117_2_6">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_117_2_6_0_">
                      <gml:posList srsDimension="3">328123.133 5730727.907 20.714 328116.557 5730728.993 20.714 328119.302 5730725.151 24.072 328123.133 5730727.907 20.714</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:RoofSurface>
      </core:boundary>
      <core:boundary>
        <con:RoofSurface gml:id="UUID_940b0ff0-358c-43e6-9bbe-8696d3013a36">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_893d0be4-85d1-4c1f-9eae-71242599120a">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_117_2_7">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_117_2_7_0_">
                      <gml:posList srsDimension="3">328119.964 5730708.594 20.714 328123.133 5730727.907 20.714 328119.302 5730725.151 24.072 328117.213 5730712.448 24.072 328119.964 5730708.594 20.714</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:RoofSurface>
      </core:boundary>
      <core:boundary>
        <con:RoofSurface gml:id="UUID_c9d4d745-6309-4db0-aabc-636f962c14cd">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_07ce8993-9538-478a-80ed-175e9188ec3c">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_117_2_8">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_117_2_8_0_">
                      <gml:posList srsDimension="3">328116.557 5730728.993 20.714 328113.376 5730709.703 20.714 328117.213 5730712.448 24.072 328119.302 5730725.151 24.072 328116.557 5730728.993 20.714</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:RoofSurface>
      </core:boundary>
      <core:boundary>
        <con:GroundSurface gml:id="UUID_cbc9bdfe-60d5-4ce9-8281-6af2485628ca">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_60d791e1-8140-4af0-af38-474e5504d38c">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_117_2_0">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_117_2_0_0_">
                      <gml:posList srsDimension="3">328123.133 5730727.907 17.467 328119.964 5730708.594 17.467 328113.376 5730709.703 17.467 328116.557 5730728.993 17.467 328123.133 5730727.907 17.467</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:GroundSurface>
      </core:boundary>
    </bldg:Building>
  </core:cityObjectMember>
  <core:cityObjectMember>
    <bldg:Building gml:id="DENW34AL0000rEeN">
      <core:creationDate>2021-01-23</core:creationDate>
      <core:externalReference>
        <core:ExternalReference>
          <core:targetResource>DENW34AL0000rEeN</core:targetResource>
          <core:informationSystem>http://repository.gdi-de.org/schemas/adv/citygml/fdv/art.htm#_9100</core:informationSystem>
        </core:ExternalReference>
      </core:externalReference>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>Gemeindeschluessel</gen:name>
          <gen:value>05170048</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>Geometrietyp2DReferenz</gen:name>
          <gen:value>3000</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>Grundrissaktualitaet</gen:name>
          <gen:value>2020-07-01</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <bldg:function>31001_1010</bldg:function>
      <bldg:buildingPart>
        <bldg:BuildingPart gml:id="UUID_01d2c4de-4485-4baa-adfd-cd2eb96da5fd">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:genericAttribute>
            <gen:StringAttribute>
              <gen:name>DatenquelleDachhoehe</gen:name>
              <gen:value>1000</gen:value>
            </gen:StringAttribute>
          </core:genericAttribute>
          <core:genericAttribute>
            <gen:StringAttribute>
              <gen:name>DatenquelleBodenhoehe</gen:name>
              <gen:value>1100</gen:value>
            </gen:StringAttribute>
          </core:genericAttribute>
          <core:genericAttribute>
            <gen:StringAttribute>
              <gen:name>DatenquelleLage</gen:name>
              <gen:value>1000</gen:value>
            </gen:StringAttribute>
          </core:genericAttribute>
          <core:genericAttribute>
            <gen:StringAttribute>
              <gen:name>Grundrissaktualitaet</gen:name>
              <gen:value>2020-07-01</gen:value>
            </gen:StringAttribute>
          </core:genericAttribute>
          <bldg:roofType>5000</bldg:roofType>
          <con:height>
            <con:Height>
              <con:highReference>highestRoofEdge</con:highReference>
              <con:lowReference>lowestGroundPoint</con:lowReference>
              <con:status>measured</con:status>
              <con:value uom="m">8.123</con:value>
            </con:Height>
          </con:height>
          <core:lod2Solid>
            <gml:Solid>
              <gml:exterior>
                <gml:Shell>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_188_2_7"/>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_188_2_8"/>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_188_2_1"/>
                  <gml:surfaceMember xlink:href="#UUID_76422d50-44af-4ff3-ab53-e7bfee190a50"/>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_188_2_5"/>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_188_2_6"/>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_188_2_0"/>
                  <gml:surfaceMember xlink:href="#UUID_64d5d8c4-d9f4-4e96-9a16-ee3137067b9e"/>
                  <gml:surfaceMember xlink:href="#UUID_a77641c7-1daa-4e74-bb1b-31f919e785c3"/>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_188_2_10"/>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_188_2_4"/>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_188_2_9"/>
                  <gml:surfaceMember xlink:href="#UUID_4a3957c4-ea8f-40b6-bf7c-e95776a212c0"/>
                </gml:Shell>
              </gml:exterior>
            </gml:Solid>
          </core:lod2Solid>
          <core:lod2TerrainIntersectionCurve>
            <gml:MultiCurve>
              <gml:curveMember>
                <gml:LineString>
                  <gml:posList srsDimension="3">328157.445 5730035.331 19.737 328157.481 5730035.481 19.736 328157.605 5730036.0 19.724 328157.796 5730036.796 19.714 328157.845 5730037.0 19.713 328158.0 5730037.646 19.71 328158.031 5730037.775 19.71</gml:posList>
                </gml:LineString>
              </gml:curveMember>
              <gml:curveMember>
                <gml:LineString>
                  <gml:posList srsDimension="3">328158.031 5730037.775 19.71 328158.085 5730038.0 19.709 328158.112 5730038.112 19.708 328158.325 5730039.0 19.704 328158.427 5730039.427 19.701 328158.503 5730039.742 19.7</gml:posList>
                </gml:LineString>
              </gml:curveMember>
              <gml:curveMember>
                <gml:LineString>
                  <gml:posList srsDimension="3">328158.503 5730039.742 19.7 328158.564 5730040.0 19.699 328158.743 5730040.743 19.695 328158.804 5730041.0 19.694 328159.0 5730041.816 19.69 328159.044 5730042.0 19.689 328159.058 5730042.058 19.688 328159.284 5730043.0 19.681 328159.373 5730043.373 19.679 328159.524 5730044.0 19.674 328159.56 5730044.153 19.672</gml:posList>
                </gml:LineString>
              </gml:curveMember>
              <gml:curveMember>
                <gml:LineString>
                  <gml:posList srsDimension="3">328159.56 5730044.153 19.672 328160.0 5730044.051 19.659 328160.041 5730044.041 19.655 328160.218 5730044.0 19.643 328160.852 5730043.852 19.592 328161.0 5730043.818 19.573 328161.663 5730043.663 19.401 328162.0 5730043.584 19.338 328162.474 5730043.474 19.251 328163.0 5730043.351 19.192 328163.284 5730043.284 19.172 328164.0 5730043.117 19.068 328164.095 5730043.095 19.061 328164.503 5730043.0 19.015 328164.906 5730042.906 18.974 328165.0 5730042.884 18.962 328165.717 5730042.717 18.908 328166.0 5730042.651 18.877 328166.528 5730042.528 18.854 328167.0 5730042.417 18.817 328167.338 5730042.338 18.817 328168.0 5730042.184 18.777 328168.149 5730042.149 18.782 328168.788 5730042.0 18.744 328168.96 5730041.96 18.738 328169.0 5730041.951 18.736 328169.771 5730041.771 18.735 328169.984 5730041.721 18.721</gml:posList>
                </gml:LineString>
              </gml:curveMember>
              <gml:curveMember>
                <gml:LineString>
                  <gml:posList srsDimension="3">328167.954 5730032.818 19.074 328167.994 5730032.994 19.022 328167.995 5730033.0 19.021 328168.0 5730033.02 19.017 328168.224 5730034.0 18.838 328168.29 5730034.29 18.799 328168.452 5730035.0 18.76 328168.585 5730035.585 18.704 328168.68 5730036.0 18.664 328168.88 5730036.88 18.677 328168.908 5730037.0 18.672 328169.0 5730037.405 18.624 328169.136 5730038.0 18.561 328169.176 5730038.176 18.568 328169.364 5730039.0 18.554 328169.471 5730039.471 18.555 328169.592 5730040.0 18.576 328169.766 5730040.766 18.615 328169.82 5730041.0 18.625 328169.984 5730041.721 18.721</gml:posList>
                </gml:LineString>
              </gml:curveMember>
              <gml:curveMember>
                <gml:LineString>
                  <gml:posList srsDimension="3">328158.623 5730035.049 19.713 328158.828 5730035.0 19.712 328158.967 5730034.967 19.711 328159.0 5730034.959 19.711 328159.774 5730034.774 19.709 328160.0 5730034.72 19.708 328160.581 5730034.581 19.701 328161.0 5730034.481 19.701 328161.388 5730034.388 19.677 328162.0 5730034.242 19.648 328162.195 5730034.195 19.633 328163.0 5730034.002 19.62 328163.002 5730034.002 19.62 328163.01 5730034.0 19.62 328163.809 5730033.809 19.607 328164.0 5730033.763 19.599 328164.616 5730033.616 19.513 328165.0 5730033.524 19.483 328165.423 5730033.423 19.428 328166.0 5730033.285 19.347 328166.23 5730033.23 19.303 328167.0 5730033.046 19.214 328167.037 5730033.037 19.207 328167.193 5730033.0 19.181 328167.844 5730032.844 19.084 328167.954 5730032.818 19.074</gml:posList>
                </gml:LineString>
              </gml:curveMember>
              <gml:curveMember>
                <gml:LineString>
                  <gml:posList srsDimension="3">328157.445 5730035.331 19.737 328158.0 5730035.198 19.72 328158.16 5730035.16 19.717 328158.623 5730035.049 19.713</gml:posList>
                </gml:LineString>
              </gml:curveMember>
            </gml:MultiCurve>
          </core:lod2TerrainIntersectionCurve>
          <core:boundary>
            <con:WallSurface gml:id="UUID_51ac43a6-d4b2-4783-9cf0-040cde1ded93">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_a6e52ed7-fce2-4d26-86b6-90c2be06e93d">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_188_2_1">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_188_2_1_0_">
                          <gml:posList srsDimension="3">328157.445 5730035.331 22.878 328158.031 5730037.775 24.982 328158.031 5730037.775 18.554 328157.445 5730035.331 18.554 328157.445 5730035.331 22.878</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:WallSurface>
          </core:boundary>
          <core:boundary>
            <con:WallSurface gml:id="UUID_499c3b5c-8940-4a40-9a0c-318abdefc090">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_6bac8325-2edf-42ec-9335-4d25da9e11db">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_188_2_4">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_188_2_4_0_">
                          <gml:posList srsDimension="3">328159.56 5730044.153 22.878 328169.984 5730041.721 22.878 328169.984 5730041.721 18.554 328159.56 5730044.153 18.554 328159.56 5730044.153 22.878</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:WallSurface>
          </core:boundary>
          <core:boundary>
            <con:WallSurface gml:id="UUID_8c05efab-22ef-464d-adab-a0ab3efc7738">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_1054f888-49d5-4c12-bf34-f9d984ceae80">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_188_2_5">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_188_2_5_0_">
                          <gml:posList srsDimension="3">328169.984 5730041.721 22.878 328167.954 5730032.818 22.878 328167.954 5730032.818 18.554 328169.984 5730041.721 18.554 328169.984 5730041.721 22.878</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:WallSurface>
          </core:boundary>
          <core:boundary>
            <con:WallSurface gml:id="UUID_52c3c069-7d3e-4d68-9e0c-a587c1449a13">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_46a618ff-f450-437b-8a60-f81f39d1441a">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_188_2_6">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_188_2_6_0_">
                          <gml:posList srsDimension="3">328167.954 5730032.818 22.878 328158.623 5730035.049 22.878 328158.623 5730035.049 18.554 328167.954 5730032.818 18.554 328167.954 5730032.818 22.878</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:WallSurface>
          </core:boundary>
          <core:boundary>
            <con:WallSurface gml:id="UUID_2c4917be-c0cf-413e-92b9-80e035656223">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_6144c28b-3639-496b-95b9-802b1c091c9d">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_188_2_7">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_188_2_7_0_">
                          <gml:posList srsDimension="3">328158.623 5730035.049 22.878 328157.445 5730035.331 22.878 328157.445 5730035.331 18.554 328158.623 5730035.049 18.554 328158.623 5730035.049 22.878</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:WallSurface>
          </core:boundary>
          <core:boundary>
            <con:RoofSurface gml:id="UUID_71bf6c62-44da-4700-af31-b9d320594656">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_9f770f75-4313-4ad0-b53a-a592e12324f2">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_188_2_8">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_188_2_8_0_">
                          <gml:posList srsDimension="3">328164.443 5730038.339 26.676 328158.503 5730039.742 26.676 328158.031 5730037.775 24.982 328157.445 5730035.331 22.878 328158.623 5730035.049 22.878 328167.954 5730032.818 22.878 328164.443 5730038.339 26.676</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:RoofSurface>
          </core:boundary>
          <core:boundary>
            <con:RoofSurface gml:id="UUID_30fad9ec-8fb1-4994-99f5-b623def71e59">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_983cace9-8707-4174-8164-e35df0af017c">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_188_2_9">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_188_2_9_0_">
                          <gml:posList srsDimension="3">328164.443 5730038.339 26.676 328167.954 5730032.818 22.878 328169.984 5730041.721 22.878 328164.443 5730038.339 26.676</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:RoofSurface>
          </core:boundary>
          <core:boundary>
            <con:RoofSurface gml:id="UUID_9fb5cfcc-9925-4015-9203-92051661aa32">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_f330eeb0-2ef4-4496-8277-ab57853f7edc">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_188_2_10">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_188_2_10_0_">
                          <gml:posList srsDimension="3">328164.443 5730038.339 26.676 328169.984 5730041.721 22.878 328159.56 5730044.153 22.878 328158.503 5730039.742 26.676 328164.443 5730038.339 26.676</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:RoofSurface>
          </core:boundary>
          <core:boundary>
            <con:GroundSurface gml:id="UUID_255aa10c-92cd-4876-857e-8bbf3d34da4b">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_4b759cc3-4642-4fa4-a6bb-652bf8a24080">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_188_2_0">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_188_2_0_0_">
                          <gml:posList srsDimension="3">328157.445 5730035.331 18.554 328158.031 5730037.775 18.554 328158.503 5730039.742 18.554 328159.56 5730044.153 18.554 328169.984 5730041.721 18.554 328167.954 5730032.818 18.554 328158.623 5730035.049 18.554 328157.445 5730035.331 18.554</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:GroundSurface>
          </core:boundary>
          <core:boundary>
            <con:WallSurface gml:id="UUID_ae5d1af1-aac8-41ba-bfdb-a065db6603a4">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface>
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="UUID_4a3957c4-ea8f-40b6-bf7c-e95776a212c0">
                      <gml:exterior>
                        <gml:LinearRing>
                          <gml:posList srsDimension="3">328158.031 5730037.775 22.878 328158.031 5730037.775 24.982 328158.503 5730039.742 26.676 328158.503 5730039.742 22.878 328158.031 5730037.775 22.878</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:WallSurface>
          </core:boundary>
          <core:boundary>
            <core:ClosureSurface>
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface>
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="UUID_64d5d8c4-d9f4-4e96-9a16-ee3137067b9e">
                      <gml:exterior>
                        <gml:LinearRing>
                          <gml:posList srsDimension="3">328158.031 5730037.775 22.878 328158.503 5730039.742 22.878 328158.503 5730039.742 18.554 328158.031 5730037.775 18.554 328158.031 5730037.775 22.878</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </core:ClosureSurface>
          </core:boundary>
          <core:boundary>
            <con:WallSurface gml:id="UUID_ed44f926-dfce-4d85-974e-72e6c7606ff0">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface>
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="UUID_76422d50-44af-4ff3-ab53-e7bfee190a50">
                      <gml:exterior>
                        <gml:LinearRing>
                          <gml:posList srsDimension="3">328158.503 5730039.742 22.878 328158.503 5730039.742 26.676 328159.56 5730044.153 22.878 328158.503 5730039.742 22.878</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:WallSurface>
          </core:boundary>
          <core:boundary>
            <core:ClosureSurface>
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface>
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="UUID_a77641c7-1daa-4e74-bb1b-31f919e785c3">
                      <gml:exterior>
                        <gml:LinearRing>
                          <gml:posList srsDimension="3">328159.56 5730044.153 18.554 328158.503 5730039.742 18.554 328158.503 5730039.742 22.878 328159.56 5730044.153 22.878 328159.56 5730044.153 18.554</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </core:ClosureSurface>
          </core:boundary>
        </bldg:BuildingPart>
      </bldg:buildingPart>
      <bldg:buildingPart>
        <bldg:BuildingPart gml:id="GUID_3530351741632820536_187">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:genericAttribute>
            <gen:StringAttribute>
              <gen:name>DatenquelleDachhoehe</gen:name>
              <gen:value>1000</gen:value>
            </gen:StringAttribute>
          </core:genericAttribute>
          <core:genericAttribute>
            <gen:StringAttribute>
              <gen:name>DatenquelleBodenhoehe</gen:name>
              <gen:value>1100</gen:value>
            </gen:StringAttribute>
          </core:genericAttribute>
          <core:genericAttribute>
            <gen:StringAttribute>
              <gen:name>DatenquelleLage</gen:name>
              <gen:value>1000</gen:value>
            </gen:StringAttribute>
          </core:genericAttribute>
          <core:genericAttribute>
            <gen:StringAttribute>
              <gen:name>Grundrissaktualitaet</gen:name>
              <gen:value>2020-07-01</gen:value>
            </gen:StringAttribute>
          </core:genericAttribute>
          <bldg:roofType>1000</bldg:roofType>
          <con:height>
            <con:Height>
              <con:highReference>highestRoofEdge</con:highReference>
              <con:lowReference>lowestGroundPoint</con:lowReference>
              <con:status>measured</con:status>
              <con:value uom="m">4.324</con:value>
            </con:Height>
          </con:height>
          <core:lod2Solid>
            <gml:Solid>
              <gml:exterior>
                <gml:Shell>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_187_2_0"/>
                  <gml:surfaceMember xlink:href="#UUID_796c327c-7989-45c5-96b2-c328244f8d14"/>
                  <gml:surfaceMember xlink:href="#UUID_bb67ef47-c67c-4007-a759-65323c62162f"/>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_187_2_1"/>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_187_2_5"/>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_187_2_4"/>
                  <gml:surfaceMember xlink:href="#GUID_3530351741632820536_187_2_2"/>
                </gml:Shell>
              </gml:exterior>
            </gml:Solid>
          </core:lod2Solid>
          <core:lod2TerrainIntersectionCurve>
            <gml:MultiCurve>
              <gml:curveMember>
                <gml:LineString>
                  <gml:posList srsDimension="3">328154.471 5730038.571 19.771 328154.569 5730039.0 19.769 328154.737 5730039.737 19.765 328154.797 5730040.0 19.766 328155.0 5730040.891 19.76 328155.025 5730041.0 19.76 328155.032 5730041.032 19.759 328155.253 5730042.0 19.755 328155.328 5730042.328 19.753 328155.481 5730043.0 19.75 328155.623 5730043.623 19.741 328155.709 5730044.0 19.736 328155.919 5730044.919 19.695 328155.937 5730044.999 19.691</gml:posList>
                </gml:LineString>
              </gml:curveMember>
              <gml:curveMember>
                <gml:LineString>
                  <gml:posList srsDimension="3">328155.937 5730044.999 19.691 328155.987 5730044.987 19.691 328156.0 5730044.984 19.691 328156.798 5730044.798 19.69 328157.0 5730044.751 19.687 328157.609 5730044.609 19.686 328158.0 5730044.518 19.684 328158.42 5730044.42 19.683 328159.0 5730044.284 19.681 328159.23 5730044.23 19.681 328159.56 5730044.153 19.672</gml:posList>
                </gml:LineString>
              </gml:curveMember>
              <gml:curveMember>
                <gml:LineString>
                  <gml:posList srsDimension="3">328158.031 5730037.775 19.71 328158.085 5730038.0 19.709 328158.112 5730038.112 19.708 328158.325 5730039.0 19.704 328158.427 5730039.427 19.701 328158.564 5730040.0 19.699 328158.743 5730040.743 19.695 328158.804 5730041.0 19.694 328159.0 5730041.816 19.69 328159.044 5730042.0 19.689 328159.058 5730042.058 19.688 328159.284 5730043.0 19.681 328159.373 5730043.373 19.679 328159.524 5730044.0 19.674 328159.56 5730044.153 19.672</gml:posList>
                </gml:LineString>
              </gml:curveMember>
              <gml:curveMember>
                <gml:LineString>
                  <gml:posList srsDimension="3">328154.471 5730038.571 19.771 328154.553 5730038.553 19.769 328155.0 5730038.453 19.765 328155.37 5730038.37 19.759 328156.0 5730038.229 19.748 328156.187 5730038.187 19.746 328157.0 5730038.006 19.73 328157.005 5730038.005 19.73 328157.025 5730038.0 19.73 328157.822 5730037.822 19.714 328158.0 5730037.782 19.71 328158.031 5730037.775 19.71</gml:posList>
                </gml:LineString>
              </gml:curveMember>
            </gml:MultiCurve>
          </core:lod2TerrainIntersectionCurve>
          <core:boundary>
            <con:WallSurface gml:id="UUID_973b3a69-23a9-4d7c-8fd4-22d54b867514">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_2c953da4-81b8-40f0-a4b5-569a0031dad4">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_187_2_1">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_187_2_1_0_">
                          <gml:posList srsDimension="3">328154.471 5730038.571 22.878 328155.937 5730044.999 22.878 328155.937 5730044.999 18.554 328154.471 5730038.571 18.554 328154.471 5730038.571 22.878</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:WallSurface>
          </core:boundary>
          <core:boundary>
            <con:WallSurface gml:id="UUID_ffe9982f-1297-4a58-94d6-6038556b8058">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_9bb09cb0-6239-4f12-b819-563480079bd6">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_187_2_2">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_187_2_2_0_">
                          <gml:posList srsDimension="3">328155.937 5730044.999 22.878 328159.56 5730044.153 22.878 328159.56 5730044.153 18.554 328155.937 5730044.999 18.554 328155.937 5730044.999 22.878</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:WallSurface>
          </core:boundary>
          <core:boundary>
            <con:WallSurface gml:id="UUID_52cd05e3-03b2-4c65-954a-abc1c97d11ce">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_d4446e8d-277b-4394-9f0a-12082f5df763">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_187_2_4">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_187_2_4_0_">
                          <gml:posList srsDimension="3">328158.031 5730037.775 22.878 328154.471 5730038.571 22.878 328154.471 5730038.571 18.554 328158.031 5730037.775 18.554 328158.031 5730037.775 22.878</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:WallSurface>
          </core:boundary>
          <core:boundary>
            <con:RoofSurface gml:id="UUID_261fd6e4-6f93-4e01-a7b1-d594fef8edd0">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_fc4333ed-3103-42b9-b552-500a4b376c66">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_187_2_5">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_187_2_5_0_">
                          <gml:posList srsDimension="3">328158.031 5730037.775 22.878 328159.56 5730044.153 22.878 328155.937 5730044.999 22.878 328154.471 5730038.571 22.878 328158.031 5730037.775 22.878</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:RoofSurface>
          </core:boundary>
          <core:boundary>
            <con:GroundSurface gml:id="UUID_b491db58-e220-4b77-ade5-245c8c0c2e97">
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface gml:id="UUID_fa86ca31-5513-4e74-bbe7-943af84e2c69">
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="GUID_3530351741632820536_187_2_0">
                      <gml:exterior>
                        <gml:LinearRing gml:id="GUID_3530351741632820536_187_2_0_0_">
                          <gml:posList srsDimension="3">328154.471 5730038.571 18.554 328155.937 5730044.999 18.554 328159.56 5730044.153 18.554 328158.031 5730037.775 18.554 328154.471 5730038.571 18.554</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </con:GroundSurface>
          </core:boundary>
          <core:boundary>
            <core:ClosureSurface>
              <core:creationDate>2021-01-23</core:creationDate>
              <core:lod2MultiSurface>
                <gml:MultiSurface>
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="UUID_bb67ef47-c67c-4007-a759-65323c62162f">
                      <gml:exterior>
                        <gml:LinearRing>
                          <gml:posList srsDimension="3">328158.503 5730039.742 18.554 328158.503 5730039.742 22.878 328158.031 5730037.775 22.878 328158.031 5730037.775 18.554 328158.503 5730039.742 18.554</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                  <gml:surfaceMember>
                    <gml:Polygon gml:id="UUID_796c327c-7989-45c5-96b2-c328244f8d14">
                      <gml:exterior>
                        <gml:LinearRing>
                          <gml:posList srsDimension="3">328159.56 5730044.153 18.554 328159.56 5730044.153 22.878 328158.503 5730039.742 22.878 328158.503 5730039.742 18.554 328159.56 5730044.153 18.554</gml:posList>
                        </gml:LinearRing>
                      </gml:exterior>
                    </gml:Polygon>
                  </gml:surfaceMember>
                </gml:MultiSurface>
              </core:lod2MultiSurface>
            </core:ClosureSurface>
          </core:boundary>
        </bldg:BuildingPart>
      </bldg:buildingPart>
      <bldg:address>
        <core:Address gml:id="UUID_8cf5d80e-57f0-46b6-9db7-3835c3f2de1d">
          <core:xalAddress>
            <xAL:AddressDetails>
              <xAL:Country>
                <xAL:CountryName>Germany</xAL:CountryName>
                <xAL:Locality Type="Town">
                  <xAL:LocalityName>Wesel</xAL:LocalityName>
                  <xAL:Thoroughfare Type="Street">
                    <xAL:ThoroughfareNumber>9</xAL:ThoroughfareNumber>
                    <xAL:ThoroughfareName>Schüttwich</xAL:ThoroughfareName>
                  </xAL:Thoroughfare>
                </xAL:Locality>
              </xAL:Country>
            </xAL:AddressDetails>
          </core:xalAddress>
        </core:Address>
      </bldg:address>
    </bldg:Building>
  </core:cityObjectMember>
  <core:cityObjectMember>
    <bldg:Building gml:id="DENW34AL00026uV0">
      <core:creationDate>2021-01-23</core:creationDate>
      <core:externalReference>
        <core:ExternalReference>
          <core:targetResource>DENW34AL00026uV0</core:targetResource>
          <core:informationSystem>http://repository.gdi-de.org/schemas/adv/citygml/fdv/art.htm#_9100</core:informationSystem>
        </core:ExternalReference>
      </core:externalReference>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>DatenquelleDachhoehe</gen:name>
          <gen:value>1000</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>Geometrietyp2DReferenz</gen:name>
          <gen:value>3000</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>Gemeindeschluessel</gen:name>
          <gen:value>05170048</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>DatenquelleBodenhoehe</gen:name>
          <gen:value>1100</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>DatenquelleLage</gen:name>
          <gen:value>1000</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <core:genericAttribute>
        <gen:StringAttribute>
          <gen:name>Grundrissaktualitaet</gen:name>
          <gen:value>2020-07-01</gen:value>
        </gen:StringAttribute>
      </core:genericAttribute>
      <bldg:function>51009_1610</bldg:function>
      <bldg:roofType>1000</bldg:roofType>
      <con:height>
        <con:Height>
          <con:highReference>highestRoofEdge</con:highReference>
          <con:lowReference>lowestGroundPoint</con:lowReference>
          <con:status>measured</con:status>
          <con:value uom="m">2.962</con:value>
        </con:Height>
      </con:height>
      <core:lod2Solid>
        <gml:Solid>
          <gml:exterior>
            <gml:Shell>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_89_2_0"/>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_89_2_2"/>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_89_2_4"/>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_89_2_1"/>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_89_2_5"/>
              <gml:surfaceMember xlink:href="#GUID_3530351741632820536_89_2_3"/>
            </gml:Shell>
          </gml:exterior>
        </gml:Solid>
      </core:lod2Solid>
      <core:lod2TerrainIntersectionCurve>
        <gml:MultiCurve>
          <gml:curveMember>
            <gml:LineString>
              <gml:posList srsDimension="3">328929.153 5730818.179 20.655 328929.505 5730819.0 20.675 328929.884 5730819.884 20.705 328929.934 5730820.0 20.708 328930.0 5730820.155 20.715 328930.362 5730821.0 20.744 328930.634 5730821.634 20.772 328930.791 5730822.0 20.784 328931.0 5730822.488 20.795 328931.22 5730823.0 20.811 328931.384 5730823.384 20.823 328931.648 5730824.0 20.853 328932.0 5730824.82 20.885 328932.077 5730825.0 20.892 328932.135 5730825.135 20.897 328932.506 5730826.0 20.92 328932.885 5730826.885 20.953 328932.934 5730827.0 20.957 328933.0 5730827.153 20.962 328933.363 5730828.0 20.981 328933.635 5730828.635 20.983 328933.792 5730829.0 20.99 328934.0 5730829.486 20.995 328934.22 5730830.0 21.011 328934.316 5730830.223 21.002</gml:posList>
            </gml:LineString>
          </gml:curveMember>
          <gml:curveMember>
            <gml:LineString>
              <gml:posList srsDimension="3">328926.526 5730819.414 20.756 328927.0 5730819.191 20.738 328927.13 5730819.13 20.727 328927.407 5730819.0 20.714 328927.81 5730818.81 20.69 328928.0 5730818.721 20.687 328928.49 5730818.49 20.675 328929.0 5730818.251 20.655 328929.153 5730818.179 20.655</gml:posList>
            </gml:LineString>
          </gml:curveMember>
          <gml:curveMember>
            <gml:LineString>
              <gml:posList srsDimension="3">328926.526 5730819.414 20.756 328926.621 5730819.621 20.762 328926.794 5730820.0 20.78 328927.0 5730820.45 20.774 328927.252 5730821.0 20.767 328927.464 5730821.464 20.766 328927.71 5730822.0 20.785 328928.0 5730822.635 20.725 328928.167 5730823.0 20.718 328928.308 5730823.308 20.728 328928.625 5730824.0 20.781 328929.0 5730824.82 20.803 328929.082 5730825.0 20.811 328929.152 5730825.152 20.818 328929.54 5730826.0 20.878 328929.996 5730826.996 20.89 328929.998 5730827.0 20.89 328930.0 5730827.005 20.891 328930.455 5730828.0 21.021 328930.84 5730828.84 21.038 328930.913 5730829.0 21.05 328931.0 5730829.19 21.048 328931.371 5730830.0 21.076 328931.684 5730830.684 21.087 328931.828 5730831.0 21.097 328932.0 5730831.375 21.045 328932.06 5730831.506 21.029</gml:posList>
            </gml:LineString>
          </gml:curveMember>
          <gml:curveMember>
            <gml:LineString>
              <gml:posList srsDimension="3">328932.06 5730831.506 21.029 328932.344 5730831.344 21.045 328932.95 5730831.0 21.033 328932.982 5730830.982 21.031 328933.0 5730830.971 21.03 328933.619 5730830.619 21.026 328934.0 5730830.403 21.012 328934.257 5730830.257 20.997 328934.316 5730830.223 21.002</gml:posList>
            </gml:LineString>
          </gml:curveMember>
        </gml:MultiCurve>
      </core:lod2TerrainIntersectionCurve>
      <core:boundary>
        <con:WallSurface gml:id="UUID_d7569257-f9ae-4b94-8678-78022f0f7832">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_3fed8fc8-86cf-49d5-9d8c-691b8c256789">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_89_2_1">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_89_2_1_0_">
                      <gml:posList srsDimension="3">328934.316 5730830.223 23.617 328929.153 5730818.179 23.617 328929.153 5730818.179 20.655 328934.316 5730830.223 20.655 328934.316 5730830.223 23.617</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:WallSurface>
      </core:boundary>
      <core:boundary>
        <con:WallSurface gml:id="UUID_aa8bf2e6-c654-4099-94cd-66b314f18316">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_60c44d8e-199a-4ace-8995-1fad180e3868">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_89_2_2">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_89_2_2_0_">
                      <gml:posList srsDimension="3">328929.153 5730818.179 23.617 328926.526 5730819.414 23.617 328926.526 5730819.414 20.655 328929.153 5730818.179 20.655 328929.153 5730818.179 23.617</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:WallSurface>
      </core:boundary>
      <core:boundary>
        <con:WallSurface gml:id="UUID_e8376005-703b-4670-99e4-5055d4e33828">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_0cf313f8-1b0c-46c7-8ddb-f28b05431051">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_89_2_3">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_89_2_3_0_">
                      <gml:posList srsDimension="3">328926.526 5730819.414 23.617 328932.06 5730831.506 23.617 328932.06 5730831.506 20.655 328926.526 5730819.414 20.655 328926.526 5730819.414 23.617</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:WallSurface>
      </core:boundary>
      <core:boundary>
        <con:WallSurface gml:id="UUID_6283a90b-ea3c-4056-9a15-cce4f779b5c6">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_a1565f16-ebbb-4cdb-bf52-1c7b86d58795">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_89_2_4">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_89_2_4_0_">
                      <gml:posList srsDimension="3">328932.06 5730831.506 23.617 328934.316 5730830.223 23.617 328934.316 5730830.223 20.655 328932.06 5730831.506 20.655 328932.06 5730831.506 23.617</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:WallSurface>
      </core:boundary>
      <core:boundary>
        <con:RoofSurface gml:id="UUID_e941f698-5454-4175-95da-5f5d3251add6">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_0959f5d7-3f1e-47eb-8a32-a571f8078529">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_89_2_5">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_89_2_5_0_">
                      <gml:posList srsDimension="3">328932.06 5730831.506 23.617 328926.526 5730819.414 23.617 328929.153 5730818.179 23.617 328934.316 5730830.223 23.617 328932.06 5730831.506 23.617</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:RoofSurface>
      </core:boundary>
      <core:boundary>
        <con:GroundSurface gml:id="UUID_096f907a-bd70-4fa4-a5ca-d203c7236d19">
          <core:creationDate>2021-01-23</core:creationDate>
          <core:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_1fa3e180-a9b1-41b2-8d70-eeee62782761">
              <gml:surfaceMember>
                <gml:Polygon gml:id="GUID_3530351741632820536_89_2_0">
                  <gml:exterior>
                    <gml:LinearRing gml:id="GUID_3530351741632820536_89_2_0_0_">
                      <gml:posList srsDimension="3">328934.316 5730830.223 20.655 328929.153 5730818.179 20.655 328926.526 5730819.414 20.655 328932.06 5730831.506 20.655 328934.316 5730830.223 20.655</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </core:lod2MultiSurface>
        </con:GroundSurface>
      </core:boundary>
    </bldg:Building>
  </core:cityObjectMember>
</core:CityModel>
